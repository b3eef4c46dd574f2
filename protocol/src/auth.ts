/**
 * Devices authenticate with their id and secret: as MQTT username/password,
 * and over HTTP (media downloads) with Basic authentication.
 */
export function deviceAuthorizationHeader(deviceId: string, secret: string): string {
  return `Basic ${Buffer.from(`${deviceId}:${secret}`, 'utf8').toString('base64')}`;
}

export function parseBasicAuthorization(header: string | undefined): { user: string; secret: string } | null {
  if (!header?.startsWith('Basic ')) return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { user: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}
