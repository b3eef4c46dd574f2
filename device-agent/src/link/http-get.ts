/**
 * A small HTTP(S) GET on node:http/https. The agent uses it instead of the
 * global fetch because fetch on Node 20 cannot be told to trust one extra CA
 * (a commune's self-signed server) without the undici package; this can.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';

export interface HttpGetOptions {
  headers?: Record<string, string>;
  /** Deadline for the whole exchange, body included. */
  timeoutMs?: number;
  /** Extra trusted CA certificate(s), PEM; added to Node's bundled roots for this request. */
  ca?: Buffer | undefined;
  signal?: AbortSignal;
}

export interface HttpGetResponse {
  status: number;
  url: URL;
  header(name: string): string | null;
  /** The body as it arrives; iterate it at most once. */
  body: AsyncIterable<Buffer>;
  /** Drops the rest of the body. */
  cancel(): void;
  bytes(): Promise<Buffer>;
  text(): Promise<string>;
}

const MAX_REDIRECTS = 5;

/** Node's default roots plus `ca`: passing `ca` alone would replace the public roots. */
function trustStore(ca: Buffer): string[] {
  return [...rootCertificates, ca.toString('utf8')];
}

export async function httpGet(input: URL | string, options: HttpGetOptions = {}): Promise<HttpGetResponse> {
  const signals = [options.signal, options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined].filter(
    (s): s is AbortSignal => s !== undefined,
  );
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  let url = new URL(input);
  const firstOrigin = url.origin;
  for (let hop = 0; ; hop++) {
    const headers = { ...options.headers };
    // Like fetch: credentials never follow a redirect to another origin.
    if (url.origin !== firstOrigin) delete headers.authorization;
    const res = await request(url, headers, options.ca, signal);
    const location = res.headers.location;
    if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && location && hop < MAX_REDIRECTS) {
      res.resume();
      url = new URL(location, url);
      continue;
    }
    return wrap(res, url);
  }
}

function request(
  url: URL,
  headers: Record<string, string>,
  ca: Buffer | undefined,
  signal: AbortSignal | undefined,
): Promise<IncomingMessage> {
  const lib = url.protocol === 'https:' ? https : http;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return Promise.reject(new Error(`unsupported URL scheme ${url.protocol}`));
  }
  return new Promise((resolve, reject) => {
    const req = lib.get(
      url,
      {
        headers,
        ...(signal ? { signal } : {}),
        ...(ca && url.protocol === 'https:' ? { ca: trustStore(ca) } : {}),
      },
      resolve,
    );
    req.on('error', reject);
  });
}

function wrap(res: IncomingMessage, url: URL): HttpGetResponse {
  const bytes = async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  return {
    status: res.statusCode ?? 0,
    url,
    header(name) {
      const value = res.headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
    body: res,
    cancel: () => res.destroy(),
    bytes,
    text: async () => (await bytes()).toString('utf8'),
  };
}
