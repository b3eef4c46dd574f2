/**
 * Cross-site request check (CSRF). Browsers send cookies along with requests
 * another site makes, so a cookie-authenticated write must come from the
 * console's own origin.
 */

/**
 * Whether an `Origin` header names this server (`host`: the Host header as
 * Fastify reads it). Anything that is not a URL of this host counts as
 * cross-site: `Origin: null` (sandboxed frames, `file:` pages, a redirect
 * across sites) and garbage included — a browser never sends those for the
 * console's own pages, and parsing them must not turn into a 500.
 */
export function isSameOrigin(origin: string, host: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  // An opaque origin ("null", "data:…") has no host; a URL without one is never ours.
  return url.host !== '' && url.host === host;
}
