/**
 * The `device` commands as `--help` lists them; what they do (the registry, the database, the
 * server's API) is loaded only when one runs, so the command line answers quickly.
 */
import type { Command } from 'commander';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerDeviceCommands(program: Command): void {
  const device = program.command('device').description('provision and revoke loudspeakers (of any commune)');
  device
    .command('add')
    .description('create a device in a commune with its own credentials and print its agent config (JSON) on stdout')
    .argument('<id>', 'device id: letters, digits, ".", "_" or "-" (unique across the province)')
    .option(
      '-c, --commune <communeId>',
      'the commune it serves (see GET /api/v1/communes); may be left out while the province has only one',
    )
    .option('-z, --zone <zoneId>', "zone to join, one of the commune's (repeatable)", collect)
    .option('-n, --name <name>', 'human name, e.g. "Cụm loa chợ"')
    .option('--server-url <url>', 'the server to call (default: the one running on LOAXA_DATA)')
    .option(
      '--player <type>',
      'alsa (default: the node plays through its sound card) or null (a silent test node that says so in every ack)',
    )
    .action(
      async (
        id: string,
        opts: { zone?: string[]; name?: string; commune?: string; serverUrl?: string; player?: string },
      ) => {
        const { addDevice } = await import('./devices');
        const config = await addDevice(id, opts);
        process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
      },
    );
  device
    .command('revoke')
    .description('disconnect a device now and refuse it from then on')
    .argument('<id>', 'device id')
    .option('--server-url <url>', 'the server to call (default: the one running on LOAXA_DATA)')
    .action(async (id: string, opts: { serverUrl?: string }) => {
      const { revokeDevice } = await import('./devices');
      await revokeDevice(id, opts);
      console.error(`loaxa: device ${id} revoked`);
    });
}
