/**
 * The villagers' channel, without a login: each commune's public page
 * (`/public/{commune}/`; `/public/` is the install's default commune), its
 * podcast feed, an embeddable widget, and the audio of what they list. Only
 * notices that have aired and were marked public appear (public/catalogue.ts).
 * Answers carry ETag and Last-Modified and are rate-limited per address.
 */
import fs from 'node:fs';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import etag from '@fastify/etag';
import rateLimit from '@fastify/rate-limit';
import type { AppServices } from '../context';
import { PODCAST_IMAGE } from '../../assets';
import { HttpError } from '../errors';
import { PublicCatalogue, type PublicCommune } from '../../public/catalogue';
import { renderPublicPage, renderWidget, type PageLanguage } from '../../public/page';
import { renderPodcast, type PodcastEpisode } from '../../public/podcast';

const DAY_MS = 24 * 3600_000;
/** The page: today's notices and those of the days before. */
const PAGE_DAYS = 7;
const PAGE_LIMIT = 50;
/** The feed: what a podcast app lists. */
const FEED_DAYS = 90;
const FEED_LIMIT = 100;
const WIDGET_LIMIT = 5;
/** Browsers and caches may keep a page a minute; a new notice shows after that at most. */
const CACHE_CONTROL = 'public, max-age=60';

const Query = Type.Object(
  { lang: Type.Optional(Type.Union([Type.Literal('vi'), Type.Literal('en')])) },
  { additionalProperties: false },
);
const CommuneParams = Type.Object({ commune: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$' }) });
const AudioParams = Type.Object({
  commune: CommuneParams.properties.commune,
  file: Type.String({ pattern: '^[0-9a-f]{64}\\.(ogg|mp3)$' }),
});

export const publicRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const catalogue = new PublicCatalogue(services.sql, services.media);
  const { config } = services;
  await app.register(etag, { weak: true });
  await app.register(rateLimit, {
    max: config.publicRateLimit,
    timeWindow: 60_000,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: 'Too Many Requests',
      message: `quá nhiều yêu cầu, thử lại sau ${Math.ceil(context.ttl / 1000)} giây / too many requests`,
    }),
  });

  const communeOr404 = async (id?: string): Promise<PublicCommune> => {
    const commune = await catalogue.commune(id);
    if (!commune) throw new HttpError(404, `no commune ${id ?? ''}`.trim(), 'commune');
    return commune;
  };
  const origin = (request: FastifyRequest) => config.publicUrl ?? `${request.protocol}://${request.host}`;
  const baseOf = (commune: PublicCommune) => `/public/${commune.id}/`;

  /** Last-Modified from the newest airing listed; 304 when the client has it (ETag is checked by its plugin). */
  const conditional = (request: FastifyRequest, reply: FastifyReply, lastAired: number | undefined): boolean => {
    reply.header('cache-control', CACHE_CONTROL);
    if (lastAired === undefined) return false;
    const modified = new Date(Math.floor(lastAired / 1000) * 1000);
    reply.header('last-modified', modified.toUTCString());
    const since = request.headers['if-modified-since'];
    if (!since || request.headers['if-none-match']) return false;
    const sinceMs = Date.parse(since);
    return !Number.isNaN(sinceMs) && modified.getTime() <= sinceMs;
  };

  const page = async (request: FastifyRequest, reply: FastifyReply, commune: PublicCommune, lang: PageLanguage) => {
    const now = Date.now();
    const notices = await catalogue.notices(commune.id, { since: now - PAGE_DAYS * DAY_MS, now, limit: PAGE_LIMIT });
    const emergency = await catalogue.currentEmergency(commune.id, now);
    // An emergency's banner comes and goes with time: the page is then not cached.
    if (!emergency && conditional(request, reply, notices[0]?.airedAt[0])) return reply.status(304).send();
    if (emergency) reply.header('cache-control', 'no-cache');
    const base = baseOf(commune);
    return reply
      .type('text/html; charset=utf-8')
      .header('content-language', lang)
      .header(
        'content-security-policy',
        "default-src 'none'; style-src 'unsafe-inline'; media-src 'self'; img-src 'self'",
      )
      .send(
        renderPublicPage({
          commune,
          contact: services.settings.publicContact(commune.id),
          notices,
          emergency,
          now,
          timeZone: config.timeZone,
          lang,
          base,
          feedUrl: `${origin(request)}${base}podcast.xml`,
        }),
      );
  };

  app.get(
    '/public/',
    {
      config: { public: true },
      schema: { tags: ['public'], summary: "The default commune's public page (HTML, no login)", querystring: Query },
    },
    async (request, reply) => page(request, reply, await communeOr404(), request.query.lang ?? 'vi'),
  );
  app.get(
    '/public/:commune/',
    {
      config: { public: true },
      schema: {
        tags: ['public'],
        summary: "A commune's public page: notices that aired, their audio (HTML, no login)",
        querystring: Query,
        params: CommuneParams,
      },
    },
    async (request, reply) =>
      page(request, reply, await communeOr404(request.params.commune), request.query.lang ?? 'vi'),
  );
  // Without the slash the page's relative links would resolve one level up.
  app.get(
    '/public/:commune',
    { config: { public: true }, schema: { hide: true, params: CommuneParams } },
    async (request, reply) => reply.redirect(`/public/${(await communeOr404(request.params.commune)).id}/`, 301),
  );

  app.get(
    '/public/:commune/widget',
    {
      config: { public: true },
      schema: {
        tags: ['public'],
        summary: 'A small page of the latest notices, to embed in the commune’s website (iframe)',
        querystring: Query,
        params: CommuneParams,
      },
    },
    async (request, reply) => {
      const commune = await communeOr404(request.params.commune);
      const now = Date.now();
      const notices = await catalogue.notices(commune.id, {
        since: now - FEED_DAYS * DAY_MS,
        now,
        limit: WIDGET_LIMIT,
      });
      if (conditional(request, reply, notices[0]?.airedAt[0])) return reply.status(304).send();
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; media-src 'self'")
        .send(
          renderWidget({
            commune,
            notices,
            now,
            timeZone: config.timeZone,
            lang: request.query.lang ?? 'vi',
            base: baseOf(commune),
          }),
        );
    },
  );

  app.get(
    '/public/:commune/podcast.xml',
    {
      config: { public: true },
      schema: {
        tags: ['public'],
        summary: "A commune's podcast feed (RSS 2.0 with iTunes tags)",
        params: CommuneParams,
      },
    },
    async (request, reply) => {
      const commune = await communeOr404(request.params.commune);
      const now = Date.now();
      const notices = await catalogue.notices(commune.id, { since: now - FEED_DAYS * DAY_MS, now, limit: FEED_LIMIT });
      if (conditional(request, reply, notices[0]?.airedAt[0])) return reply.status(304).send();
      const episodes: PodcastEpisode[] = [];
      for (const notice of notices) {
        // One at a time: the MP3 copy is made on the first request after a notice airs (ffmpeg).
        const mp3 = await catalogue.audio(commune.id, notice.sha256, 'mp3').catch((err: unknown) => {
          request.log.error({ err, sha256: notice.sha256 }, 'podcast: no MP3 copy; episode left out');
          return null;
        });
        if (!mp3) continue;
        const source = await services.media.get(notice.sha256);
        episodes.push({ ...notice, mp3Bytes: mp3.bytes, oggBytes: source?.format === 'ogg' ? source.bytes : null });
      }
      const pageUrl = `${origin(request)}${baseOf(commune)}`;
      return reply.type('application/rss+xml; charset=utf-8').send(
        renderPodcast({
          commune,
          contact: services.settings.publicContact(commune.id),
          episodes,
          pageUrl,
          feedUrl: `${pageUrl}podcast.xml`,
          now,
        }),
      );
    },
  );

  app.get(
    '/public/:commune/podcast.png',
    { config: { public: true }, schema: { hide: true, params: CommuneParams } },
    async (request, reply) => {
      await communeOr404(request.params.commune);
      reply.header('cache-control', 'public, max-age=86400');
      return reply.type('image/png').send(fs.createReadStream(PODCAST_IMAGE));
    },
  );

  app.get(
    '/public/:commune/audio/:file',
    {
      config: { public: true },
      schema: {
        tags: ['public'],
        summary: 'The audio of a public notice that has aired (Opus .ogg or .mp3); supports Range',
        params: AudioParams,
      },
    },
    async (request, reply) => {
      const commune = await communeOr404(request.params.commune);
      const [sha256, format] = request.params.file.split('.') as [string, 'ogg' | 'mp3'];
      const asset = await catalogue.audio(commune.id, sha256, format);
      if (!asset) throw new HttpError(404, `no public audio ${request.params.file}`, 'file');
      reply.header('cache-control', 'public, max-age=86400');
      return reply.sendFile(services.media.relativePath(asset.sha256, asset.format), services.media.root, {
        contentType: true,
        acceptRanges: true,
        cacheControl: false,
      });
    },
  );
};
