/**
 * Languages a notice may be heard in (Decree 49/2024 asks commune stations to
 * broadcast in the local ethnic-minority languages too). Codes are ISO 639;
 * any well-formed code is accepted, these have names in the console and on
 * the public page.
 */
import { DEFAULT_LANGUAGE } from './items';

export const LANGUAGE_CODE_PATTERN = '^[a-z]{2,3}(-[a-z0-9]{2,8})*$';

export const LANGUAGE_NAMES: Record<string, { vi: string; en: string }> = {
  vi: { vi: 'Tiếng Việt', en: 'Vietnamese' },
  hmn: { vi: 'Tiếng H’Mông', en: 'Hmong' },
  blt: { vi: 'Tiếng Thái', en: 'Tai Dam' },
  km: { vi: 'Tiếng Khmer', en: 'Khmer' },
  rad: { vi: 'Tiếng Ê-đê', en: 'Rade' },
  jra: { vi: 'Tiếng Gia Rai', en: 'Jarai' },
  bdq: { vi: 'Tiếng Ba Na', en: 'Bahnar' },
  tyz: { vi: 'Tiếng Tày', en: 'Tày' },
  nut: { vi: 'Tiếng Nùng', en: 'Nùng' },
  mtq: { vi: 'Tiếng Mường', en: 'Muong' },
};

export function languageName(code: string, lang: 'vi' | 'en' = 'vi'): string {
  return LANGUAGE_NAMES[code]?.[lang] ?? code;
}

export { DEFAULT_LANGUAGE };
