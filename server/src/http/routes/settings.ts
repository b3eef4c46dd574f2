/**
 * The commune's settings (loudness target, TTS engine order and keys) and a
 * button's worth of "does this engine speak?". Keys are write-only: no
 * answer and no audit entry ever holds one.
 *
 * Every route acts on the caller's commune; a province user names one with
 * `commune` (query for reads, body for the change), and must when the
 * province has several.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppServices } from '../context';
import { ErrorReply, HttpError } from '../errors';
import { SettingsError, SettingsPatchSchema, SettingsViewSchema } from '../../settings/settings';
import { createEngine, ENGINE_IDS } from '../../tts/registry';
import { decodeWav, pcmDurationMs } from '../../audio/pcm';

/** What an engine test says; short, so a paid engine spends little. */
const TEST_PHRASE = 'Xin chào bà con, đây là giọng đọc thử.';
const TEST_TIMEOUT_MS = 60_000;

const CommuneId = Type.String({ minLength: 1, maxLength: 64 });
const CommuneQuery = Type.Object({ commune: Type.Optional(CommuneId) }, { additionalProperties: false });
/** The patch, and for a province user the commune it is for. */
const SettingsPutBody = Type.Object(
  { ...SettingsPatchSchema.properties, commune: Type.Optional(CommuneId) },
  { additionalProperties: false },
);

export const settingsRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get(
    '/settings',
    {
      config: { permission: 'settings:manage' },
      schema: {
        tags: ['settings'],
        summary: 'The commune’s settings in force, where each comes from; keys only as set / not set',
        querystring: CommuneQuery,
        response: { 200: SettingsViewSchema, 400: ErrorReply, 404: ErrorReply },
      },
    },
    async (request) => services.settings.view(await services.communes.forWrite(request.scope, request.query.commune)),
  );

  app.put(
    '/settings',
    {
      config: { permission: 'settings:manage' },
      schema: {
        tags: ['settings'],
        summary:
          'Change some of the commune’s settings (only the fields given; null returns one to the server’s environment value). Applies at once.',
        body: SettingsPutBody,
        response: { 200: SettingsViewSchema, 400: ErrorReply, 404: ErrorReply },
      },
    },
    async (request) => {
      const { commune, ...patch } = request.body;
      const communeId = await services.communes.forWrite(request.scope, commune);
      let change;
      try {
        change = await services.settings.update(communeId, patch, request.user!.username);
      } catch (err) {
        if (err instanceof SettingsError) throw new HttpError(400, err.message, err.field);
        throw err;
      }
      if (change.keys.length > 0) {
        await services.audit.record({
          actor: request.user!.username,
          action: 'settings.update',
          target: null,
          detail: change.detail,
          ip: request.ip,
          communeId,
        });
      }
      return services.settings.view(communeId);
    },
  );

  app.post(
    '/tts/engines/:id/test',
    {
      config: { permission: 'settings:manage' },
      schema: {
        tags: ['settings'],
        summary:
          'Speak a short phrase with one of the commune’s engines (in its order or not) and say whether it worked',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 32 }) }),
        querystring: CommuneQuery,
        response: {
          200: Type.Object({
            engine: Type.String(),
            ok: Type.Boolean(),
            durationMs: Type.Union([Type.Integer(), Type.Null()]),
            /** Why it did not speak (the vendor's answer, or what is missing). */
            error: Type.Union([Type.String(), Type.Null()]),
          }),
          400: ErrorReply,
          404: ErrorReply,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const communeId = await services.communes.forWrite(request.scope, request.query.commune);
      if (!(ENGINE_IDS as readonly string[]).includes(id)) {
        throw new HttpError(404, `id: no TTS engine "${id}" (one of ${ENGINE_IDS.join(', ')})`, 'id');
      }
      const found = services.settings.engineConfig(communeId, id);
      if ('problem' in found)
        return { engine: id, ok: false, durationMs: null, error: `not configured: ${found.problem}` };
      // The engine in use when it is in the order; otherwise one built for the test alone.
      const engine = services.tts.forCommune(communeId).get(id) ?? createEngine(found.config);
      try {
        const result = await engine.synthesize({ text: TEST_PHRASE }, AbortSignal.timeout(TEST_TIMEOUT_MS));
        return { engine: id, ok: true, durationMs: Math.round(pcmDurationMs(decodeWav(result.wav))), error: null };
      } catch (err) {
        return { engine: id, ok: false, durationMs: null, error: (err as Error).message };
      }
    },
  );
};
