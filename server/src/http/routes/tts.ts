/**
 * Speech and audio for the console: the commune's abbreviation dictionary,
 * the commune's TTS engines, a cached preview render, what the normaliser
 * makes of a text, and audio uploads.
 *
 * Everything here is the caller's commune's: its dictionary, its engines, its
 * loudness target. A province user names the commune with `commune` (query for
 * reads, body for writes) and must when the province has several.
 */
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { AppServices } from '../context';
import { ErrorReply, HttpError } from '../errors';
import { DictionaryError, MAX_ABBREVIATION_LENGTH, MAX_EXPANSION_LENGTH } from '../../tts/dictionary';
import { AllEnginesFailedError, type TtsRegistry } from '../../tts/registry';
import { importAudio, UploadError } from '../../audio/upload';

const Entry = Type.Object({
  abbreviation: Type.String(),
  expansion: Type.String(),
  source: Type.Union([Type.Literal('builtin'), Type.Literal('commune')]),
  builtin: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  updatedBy: Type.Union([Type.String(), Type.Null()]),
});
const AbbreviationParams = Type.Object({
  abbreviation: Type.String({ minLength: 1, maxLength: MAX_ABBREVIATION_LENGTH * 4 }),
});
const Voice = Type.Object({ id: Type.String(), name: Type.String(), language: Type.String() });
const PreviewText = Type.String({ minLength: 1, maxLength: 5000 });
const CommuneId = Type.String({ minLength: 1, maxLength: 64 });
const CommuneQuery = Type.Object({ commune: Type.Optional(CommuneId) }, { additionalProperties: false });

export const PreviewReply = Type.Object({
  sha256: Type.String(),
  /** Where the console's audio element fetches it (session cookie). */
  url: Type.String(),
  durationMs: Type.Integer(),
  engine: Type.String(),
  /** True when the preferred engine failed and another one spoke. */
  fallback: Type.Boolean(),
  cached: Type.Boolean(),
  integratedLufs: Type.Number(),
  truePeakDbtp: Type.Number(),
});

export const UploadReply = Type.Object({
  sha256: Type.String(),
  url: Type.String(),
  durationMs: Type.Integer(),
  bytes: Type.Integer(),
  integratedLufs: Type.Number(),
  truePeakDbtp: Type.Number(),
});

function dictionaryError(err: unknown): never {
  if (err instanceof DictionaryError) throw new HttpError(400, err.message, err.field);
  throw err;
}

/** Which pipeline errors are the request's fault, and which field they are about. */
function renderError(err: unknown): never {
  if (err instanceof AllEnginesFailedError) throw new HttpError(502, err.message);
  const message = (err as Error).message ?? '';
  if (/nothing to say|speech is silent/.test(message)) {
    throw new HttpError(400, 'text: has nothing to say (no words after normalisation)', 'text');
  }
  if (/^TTS engine ".*" is not configured/.test(message)) throw new HttpError(400, `engine: ${message}`, 'engine');
  throw err;
}

export const ttsRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  // The server's one dictionary: a change here is in the renderer's snapshot at once.
  const { dictionary } = services;
  const maxUploadBytes = services.config.uploadMaxMb * 1024 * 1024;
  /** The commune a request acts on: the caller's, or the one a province user names (404/400 from CommuneError). */
  const communeOf = async (request: FastifyRequest, named: string | undefined) =>
    services.communes.forWrite(request.scope, named);

  // ------------------------------------------------------------ dictionary

  app.get(
    '/dictionary',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['tts'],
        summary: 'Abbreviations the normaliser expands: built-in ones and the commune’s own (which win)',
        querystring: CommuneQuery,
        response: { 200: Type.Object({ entries: Type.Array(Entry) }), 400: ErrorReply, 404: ErrorReply },
      },
    },
    async (request) => ({ entries: await dictionary.list(await communeOf(request, request.query.commune)) }),
  );

  app.put(
    '/dictionary/:abbreviation',
    {
      config: { permission: 'dictionary:manage' },
      schema: {
        tags: ['tts'],
        summary: 'Add or change one of the commune’s abbreviations (replaces a built-in one of the same spelling)',
        params: AbbreviationParams,
        body: Type.Object(
          {
            expansion: Type.String({ minLength: 1, maxLength: MAX_EXPANSION_LENGTH }),
            commune: Type.Optional(CommuneId),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ entry: Entry, created: Type.Boolean() }), 400: ErrorReply, 404: ErrorReply },
      },
    },
    async (request) => {
      const communeId = await communeOf(request, request.body.commune);
      let result;
      try {
        result = await dictionary.put(
          communeId,
          request.params.abbreviation,
          request.body.expansion,
          request.user!.username,
        );
      } catch (err) {
        dictionaryError(err);
      }
      const { entry, previous } = result;
      await services.audit.record({
        actor: request.user!.username,
        action: 'dictionary.put',
        target: entry.abbreviation,
        detail: { expansion: entry.expansion, previous: previous?.expansion ?? null, replacedBuiltin: entry.builtin },
        ip: request.ip,
        communeId,
      });
      return { entry, created: previous?.source !== 'commune' };
    },
  );

  app.delete(
    '/dictionary/:abbreviation',
    {
      config: { permission: 'dictionary:manage' },
      schema: {
        tags: ['tts'],
        summary: 'Remove one of the commune’s abbreviations (a built-in one it replaced applies again)',
        params: AbbreviationParams,
        querystring: CommuneQuery,
        response: { 204: Type.Null(), 400: ErrorReply, 404: ErrorReply },
      },
    },
    async (request, reply) => {
      // A DELETE has no body: a province user names the commune in the query.
      const communeId = await communeOf(request, request.query.commune);
      let removed;
      try {
        removed = await dictionary.remove(communeId, request.params.abbreviation);
      } catch (err) {
        dictionaryError(err);
      }
      if (!removed) {
        const builtin = await dictionary.get(communeId, request.params.abbreviation.normalize('NFC').trim());
        throw new HttpError(
          404,
          builtin
            ? `abbreviation: "${builtin.abbreviation}" is built in; change it with PUT instead of removing it`
            : `abbreviation: the commune has no entry "${request.params.abbreviation}"`,
          'abbreviation',
        );
      }
      await services.audit.record({
        actor: request.user!.username,
        action: 'dictionary.delete',
        target: removed.abbreviation,
        detail: { expansion: removed.expansion },
        ip: request.ip,
        communeId,
      });
      return reply.status(204).send(null);
    },
  );

  // ------------------------------------------------------------ engines, normalise, preview

  app.get(
    '/tts/engines',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['tts'],
        summary: 'The commune’s TTS engines in fallback order, with their health and voices',
        querystring: CommuneQuery,
        response: {
          200: Type.Object({
            engines: Type.Array(
              Type.Object({
                id: Type.String(),
                primary: Type.Boolean(),
                health: Type.Object({ ok: Type.Boolean(), detail: Type.Optional(Type.String()) }),
                voices: Type.Array(Voice),
              }),
            ),
          }),
          400: ErrorReply,
          404: ErrorReply,
        },
      },
    },
    async (request) => {
      const tts = services.tts.forCommune(await communeOf(request, request.query.commune));
      const health = await tts.health();
      const engines = await Promise.all(
        tts.engineIds.map(async (id, index) => {
          const voices = await tts
            .get(id)!
            .voices()
            .catch(() => []);
          return { id, primary: index === 0, health: health[id] ?? { ok: false, detail: 'no report' }, voices };
        }),
      );
      return { engines };
    },
  );

  app.post(
    '/tts/normalize',
    {
      config: { permission: 'broadcasts:read' },
      schema: {
        tags: ['tts'],
        summary: 'What the loudspeaker will say for a text (numbers, dates and the commune’s abbreviations in words)',
        body: Type.Object({ text: PreviewText, commune: Type.Optional(CommuneId) }, { additionalProperties: false }),
        response: { 200: Type.Object({ text: Type.String() }), 400: ErrorReply, 404: ErrorReply },
      },
    },
    async (request) => ({
      text: await services.renderer.spokenText(request.body.text, await communeOf(request, request.body.commune)),
    }),
  );

  app.post(
    '/tts/preview',
    {
      config: { permission: 'content:write' },
      schema: {
        tags: ['tts'],
        summary:
          'Render a text as the commune’s notice would air (its dictionary, engines and loudness; chime, Opus), through the render cache',
        body: Type.Object(
          {
            text: PreviewText,
            voice: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            speed: Type.Optional(Type.Number({ minimum: 0.5, maximum: 2 })),
            engine: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
            commune: Type.Optional(CommuneId),
          },
          { additionalProperties: false },
        ),
        response: { 200: PreviewReply, 400: ErrorReply, 404: ErrorReply, 502: ErrorReply },
      },
    },
    async (request) => {
      const { text, voice, speed, engine, commune } = request.body;
      const communeId = await communeOf(request, commune);
      const tts = services.tts.forCommune(communeId);
      if (engine !== undefined && !tts.engineIds.includes(engine)) {
        throw new HttpError(
          400,
          `engine: "${engine}" is not configured (configured: ${tts.engineIds.join(', ')})`,
          'engine',
        );
      }
      if (voice !== undefined) await checkVoice(tts, voice, engine);
      let audio;
      try {
        audio = await services.renderer.render({ text, voice, speed, engine }, communeId);
      } catch (err) {
        renderError(err);
      }
      // The same audio may already be another commune's: the caller may still play their preview.
      services.media.grant(request.scope.communeId, audio.sha256);
      return {
        sha256: audio.sha256,
        url: `/media/${audio.sha256}.${audio.format}`,
        durationMs: audio.durationMs,
        engine: audio.engine,
        fallback: audio.fallback,
        cached: audio.cached,
        integratedLufs: audio.loudness.integratedLufs,
        truePeakDbtp: audio.loudness.truePeakDbtp,
      };
    },
  );

  // ------------------------------------------------------------ uploads

  await app.register(async (uploads) => {
    await uploads.register(multipart, {
      limits: { fileSize: maxUploadBytes, files: 1, fields: 0, parts: 2, headerPairs: 100 },
    });
    uploads.post(
      '/audio',
      {
        config: { permission: 'content:write' },
        schema: {
          tags: ['audio'],
          summary: `Upload audio (mp3, wav, m4a, ogg, flac, webm) as multipart field "file"; it is trimmed, loudness-normalised and stored as Opus`,
          description:
            'Normalised to the loudness target of the uploader’s commune; a province user may name one with `commune` (else the built-in target).',
          consumes: ['multipart/form-data'],
          querystring: CommuneQuery,
          response: { 201: UploadReply, 400: ErrorReply, 404: ErrorReply, 413: ErrorReply, 415: ErrorReply },
        },
      },
      async (request, reply) => {
        // Province audio (a bulletin's) airs in many communes: without a commune named it
        // gets the built-in target rather than one commune's.
        const named = (request.query as { commune?: string }).commune; // checked by CommuneQuery
        const communeId =
          request.scope.communeId === null && named === undefined ? null : await communeOf(request, named);
        if (!request.isMultipart()) {
          throw new HttpError(415, 'file: send the audio as multipart/form-data in a field named "file"', 'file');
        }
        const tooLarge = () =>
          new HttpError(413, `file: larger than the upload limit of ${services.config.uploadMaxMb} MB`, 'file');
        let part;
        try {
          part = await request.file();
        } catch (err) {
          throw mapMultipartError(err, tooLarge);
        }
        if (!part) throw new HttpError(400, 'file: is required (multipart field "file")', 'file');
        if (part.fieldname !== 'file') {
          part.file.resume();
          throw new HttpError(400, `file: is required; the upload came in a field named "${part.fieldname}"`, 'file');
        }
        // Our own name in the store's temp folder: the uploader's file name is never used on disk.
        const temp = services.media.tempPath('upload');
        try {
          try {
            await pipeline(part.file, fs.createWriteStream(temp, { flags: 'wx' }));
          } catch (err) {
            throw mapMultipartError(err, tooLarge);
          }
          if (part.file.truncated) throw tooLarge();
          let imported;
          try {
            imported = await importAudio(services.media, temp, {
              complexity: services.config.opusComplexity,
              loudnessTarget: communeId === null ? undefined : services.settings.loudnessTarget(communeId),
            });
          } catch (err) {
            if (err instanceof UploadError) throw new HttpError(err.statusCode, err.message, err.field);
            throw err;
          }
          services.media.grant(request.scope.communeId, imported.sha256);
          await services.audit.record({
            actor: request.user!.username,
            action: 'audio.upload',
            target: imported.sha256,
            detail: {
              name: part.filename.slice(0, 200),
              type: part.mimetype,
              durationMs: imported.durationMs,
              bytes: imported.bytes,
            },
            ip: request.ip,
            communeId,
          });
          return reply.status(201).send({ ...imported, url: `/media/${imported.sha256}.ogg` });
        } finally {
          fs.rmSync(temp, { force: true });
        }
      },
    );
  });
};

function mapMultipartError(err: unknown, tooLarge: () => HttpError): unknown {
  const code = (err as { code?: string }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return tooLarge();
  if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') {
    return new HttpError(400, 'file: send exactly one file, in the field "file", and no other fields', 'file');
  }
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
    return new HttpError(415, 'file: send the audio as multipart/form-data in a field named "file"', 'file');
  }
  return err;
}

/** A voice must be one the chosen (or first) of the commune's engines lists, plain or as "engine:voice". */
async function checkVoice(tts: TtsRegistry, voice: string, engine: string | undefined): Promise<void> {
  const qualified = /^([a-z]+):(.+)$/.exec(voice);
  const engineId = qualified && tts.engineIds.includes(qualified[1]!) ? qualified[1]! : (engine ?? tts.engineIds[0]!);
  const name = qualified && engineId === qualified[1] ? qualified[2]! : voice;
  const voices = await tts
    .get(engineId)!
    .voices()
    .catch(() => null);
  if (!voices || voices.length === 0) return; // the engine cannot list its voices: let it judge
  if (!voices.some((v) => v.id === name)) {
    throw new HttpError(
      400,
      `voice: "${voice}" is not a voice of ${engineId} (${voices.map((v) => v.id).join(', ')})`,
      'voice',
    );
  }
}
