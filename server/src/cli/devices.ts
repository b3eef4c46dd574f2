import { openStore } from '../db/open';
import { deviceMqttUrls } from '../config';
import { EventHub } from '../events/hub';
import { ConflictError, DeviceRegistry, NotFoundError } from '../devices/registry';
import {
  agentConfigFor,
  PROVISIONED_PLAYERS,
  type ProvisionedAgentConfig,
  type ProvisionedPlayer,
} from '../devices/provisioning';
import { CommuneError, CommuneService } from '../tenancy/communes';
import { PROVINCE } from '../tenancy/scope';
import { CliError, callServer, resolveTarget, type ServerTarget } from './server-client';

interface ApiError {
  message: string;
  field?: string;
}

async function withRegistry<T>(
  target: ServerTarget,
  fn: (registry: DeviceRegistry, communes: CommuneService) => T | Promise<T>,
): Promise<T> {
  const store = await openStore(target.config, undefined, 'loaxa-cli');
  try {
    return await fn(new DeviceRegistry(store.sql, new EventHub()), await CommuneService.open(store.sql));
  } finally {
    await store.close();
  }
}

/** The server's refusal in words; a missing commune says which option gives it. */
function refusal(body: ApiError): string {
  return body.field === 'commune' ? `${body.message}; give it with --commune <id>` : body.message;
}

function offline(target: ServerTarget): void {
  if (target.explicit) throw new CliError(`no server answers at ${target.url}`);
  console.error(
    `loaxa: no server runs (${target.noServer ?? 'none found'}); writing to the database in ${target.config.dataDir}`,
  );
}

export async function addDevice(
  id: string,
  opts: { zone?: string[]; name?: string; commune?: string; serverUrl?: string; player?: string },
): Promise<ProvisionedAgentConfig> {
  const player = opts.player as ProvisionedPlayer | undefined;
  if (player !== undefined && !PROVISIONED_PLAYERS.includes(player)) {
    throw new CliError(
      `--player must be one of ${PROVISIONED_PLAYERS.join(', ')} (got ${JSON.stringify(opts.player)})`,
    );
  }
  const target = resolveTarget(opts.serverUrl);
  const body = { id, ...(opts.name ? { name: opts.name } : {}), zones: opts.zone ?? [] };
  // The CLI acts as a province administrator (local token): it names the commune, or the server picks the only one.
  const res = await callServer<{ agentConfig: ProvisionedAgentConfig } & ApiError>(target, 'POST', '/api/v1/devices', {
    ...body,
    ...(opts.commune !== undefined ? { commune: opts.commune } : {}),
    ...(player ? { player } : {}),
  });
  if (res) {
    if (res.status !== 201) throw new CliError(refusal(res.body));
    return res.body.agentConfig;
  }
  offline(target);
  return withRegistry(target, async (registry, communes) => {
    try {
      const communeId = await communes.forWrite(PROVINCE, opts.commune);
      const { secret } = await registry.createDevice({ ...body, communeId });
      const serverUrl = target.config.publicUrl ?? target.url;
      return agentConfigFor({
        deviceId: id,
        secret,
        serverUrl,
        mqttPort: target.config.mqttPort,
        // An external broker: every device URL (a cluster's nodes), as the server's route gives them.
        ...(target.config.mqttUrl ? { mqttUrls: deviceMqttUrls(target.config) } : {}),
        ...(player ? { player } : {}),
      });
    } catch (err) {
      if (err instanceof ConflictError || err instanceof NotFoundError) throw new CliError(err.message);
      if (err instanceof CommuneError) throw new CliError(refusal(err));
      throw err;
    }
  });
}

export async function revokeDevice(id: string, opts: { serverUrl?: string }): Promise<void> {
  const target = resolveTarget(opts.serverUrl);
  const res = await callServer<ApiError>(target, 'POST', `/api/v1/devices/${encodeURIComponent(id)}/revoke`);
  if (res) {
    if (res.status !== 200) throw new CliError(refusal(res.body));
    return;
  }
  offline(target);
  if (!(await withRegistry(target, (registry) => registry.revokeDevice(id, PROVINCE))))
    throw new CliError(`no device with id ${id}`);
}
