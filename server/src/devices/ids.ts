import { isValidId } from '@loaxa/protocol';

/** "Thôn Đông 1" → "thon-dong-1": ids that are safe in MQTT topics and URLs. */
export function slugify(name: string, fallback = 'zone'): string {
  const slug = name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  return isValidId(slug) ? slug : fallback;
}

/** First of base, base-2, base-3… that `taken` does not report as used. */
export function uniqueId(base: string, taken: (id: string) => boolean): string {
  if (!taken(base)) return base;
  for (let i = 2; ; i++) {
    const candidate = `${base}-${i}`;
    if (!taken(candidate)) return candidate;
  }
}
