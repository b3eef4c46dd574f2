/**
 * Who may read /metrics. The counters say how many loudspeakers are online,
 * how many broadcasts go out and how the server is doing: not for the
 * internet. With a token (LOAXA_METRICS_TOKEN) a scraper sends it as
 * `Authorization: Bearer …`, from anywhere; without one only this machine
 * may read them (a Prometheus or node exporter beside the server), unless
 * LOAXA_METRICS_ACCESS=open says the network is trusted.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config';
import { HttpError } from '../http/errors';

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (a dual-stack socket reports ::ffff:127.0.0.1). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === '::1';
}

/**
 * Headers a reverse proxy adds. A request that carries one came through a
 * proxy, which (on the same machine) connects from loopback on behalf of
 * someone elsewhere: it must not count as local.
 */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

/** Compares digests, so the time taken says nothing about how much of the token was right. */
function sameToken(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** An onRequest hook for the /metrics route, per the configured access. */
export function metricsAccessHook(
  config: Pick<Config, 'metricsAccess' | 'metricsToken'>,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    switch (config.metricsAccess) {
      case 'open':
        return;
      case 'token': {
        const given = request.headers.authorization?.match(/^Bearer (\S+)$/)?.[1];
        if (given !== undefined && sameToken(given, config.metricsToken ?? '')) return;
        reply.header('www-authenticate', 'Bearer realm="loaxa-metrics"');
        throw new HttpError(
          401,
          given === undefined
            ? 'authorization: /metrics needs the Bearer token set in LOAXA_METRICS_TOKEN'
            : 'authorization: wrong metrics token',
          'authorization',
        );
      }
      case 'loopback': {
        const proxied = PROXY_HEADERS.some((h) => request.headers[h] !== undefined);
        // request.ip is the socket's address: the app does not trust proxy headers (trustProxy: false).
        if (isLoopback(request.ip) && !proxied) return;
        throw new HttpError(
          403,
          '/metrics answers only on this machine; set LOAXA_METRICS_TOKEN to scrape it from elsewhere',
        );
      }
    }
  };
}
