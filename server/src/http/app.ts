/**
 * The Fastify application: API under /api/v1 (session-authenticated, OpenAPI
 * described), media downloads, live events and the console's static files.
 */
import fs from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import compress from '@fastify/compress';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppServices } from './context';
import { installErrorHandler } from './errors';
import { installSessionAuth } from './auth';
import { installRequestIds, requestIdFor } from './request-id';
import { recordRoutes } from './route-table';
import { RequestDrain } from './drain';
import { sessionRoutes } from './routes/session';
import { deviceRoutes } from './routes/devices';
import { broadcastRoutes } from './routes/broadcasts';
import { eventRoutes } from './routes/events';
import { mediaRoutes } from './routes/media';
import { healthRoutes } from './routes/health';
import { timeRoutes } from './routes/time';
import { auditRoutes } from './routes/audit';
import { scheduleRoutes } from './routes/schedule';
import { userRoutes } from './routes/users';
import { ttsRoutes } from './routes/tts';
import { reportRoutes } from './routes/reports';
import { deviceControlRoutes } from './routes/device-controls';
import { settingsRoutes } from './routes/settings';
import { communeRoutes } from './routes/communes';
import { bulletinRoutes } from './routes/bulletins';
import { publicRoutes } from './routes/public';
import { alertRoutes } from './routes/alerts';
import { liveRoutes } from './routes/live';
import { SERVER_VERSION } from '../version';
import { metricsAccessHook } from '../metrics/access';

export async function buildApp(services: AppServices, tls?: { cert: Buffer; key: Buffer }): Promise<FastifyInstance> {
  const app = Fastify({
    ...(tls ? { https: { ...tls, minVersion: 'TLSv1.2' as const } } : {}),
    loggerInstance: services.logger as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    trustProxy: false,
    // Closing comes after RequestDrain has let running requests finish; what is left is cut.
    forceCloseConnections: true,
    genReqId: requestIdFor,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  recordRoutes(app as unknown as FastifyInstance);
  installRequestIds(app);
  new RequestDrain().install(app as unknown as FastifyInstance);
  installErrorHandler(app);
  await app.register(cookie);
  // API answers gzip'd for a commune office on a mobile link: a province's device list is 4.3 MB of
  // JSON. The console's files are served precompressed (below); audio is left as it is (not
  // compressible); the live event stream writes to the socket itself and is never buffered by this.
  await app.register(compress, { global: true, threshold: 1024, encodings: ['gzip', 'deflate'] });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Loa Xã API',
        version: SERVER_VERSION,
        description: 'Commune loudspeaker and text-to-speech broadcast system. Times are UTC ISO-8601.',
      },
      components: {
        securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'loaxa_session' } },
      },
      security: [{ session: [] }],
    },
  });

  await app.register(
    async (api) => {
      installSessionAuth(api, services.users, services.localToken);
      await api.register(healthRoutes, { services });
      await api.register(timeRoutes);
      await api.register(sessionRoutes, { services });
      await api.register(deviceRoutes, { services });
      await api.register(broadcastRoutes, { services });
      await api.register(eventRoutes, { services });
      await api.register(auditRoutes, { services });
      await api.register(userRoutes, { services });
      await api.register(ttsRoutes, { services });
      await api.register(scheduleRoutes, { services });
      await api.register(reportRoutes, { services });
      await api.register(deviceControlRoutes, { services });
      await api.register(settingsRoutes, { services });
      await api.register(communeRoutes, { services });
      await api.register(bulletinRoutes, { services });
      await api.register(alertRoutes, { services });
      await api.register(liveRoutes, { services });
      api.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
    },
    { prefix: '/api/v1' },
  );

  const webDir = services.config.webDir;
  const hasConsole = !!webDir && fs.existsSync(path.join(webDir, 'index.html'));
  await app.register(fastifyStatic, {
    root: hasConsole ? webDir! : services.media.root,
    serve: hasConsole,
    prefix: '/',
    index: ['index.html'],
    // The console build writes .br/.gz copies: a cheap phone on 4G downloads ~60 KB, not ~200 KB.
    preCompressed: true,
  });
  if (!hasConsole) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/plain; charset=utf-8')
        .send('Loa Xã: the console has not been built. Run `npm run build:web`, then restart.\n'),
    );
  }
  await app.register(mediaRoutes, { services });
  await app.register(publicRoutes, { services });
  // Vbee announces a finished job here. Public because Vbee calls it; safe because a
  // callback only wakes the poller, which fetches the audio link from Vbee itself.
  app.post(
    '/api/tts/vbee/callback',
    { config: { public: true }, schema: { hide: true, body: { type: 'object' } } },
    async (request) => ({
      ok: services.tts.acceptVbeeCallback(request.body),
    }),
  );
  // Outside the session-authenticated API: a scraper has no session. Access: see metrics/access.ts.
  app.get(
    '/metrics',
    { config: { public: true }, schema: { hide: true }, onRequest: metricsAccessHook(services.config) },
    async (_request, reply) =>
      reply.type(services.metrics.registry.contentType).send(await services.metrics.registry.metrics()),
  );
  return app as unknown as FastifyInstance;
}
