/**
 * The text catalogue. Vietnamese first, English second; both are bundled
 * (a few KB) so the first paint never waits for a catalogue download.
 * The choice is remembered in localStorage.
 */
import { addMessages, init, locale } from 'svelte-i18n';
import vi from './vi.json';
import en from './en.json';

export const LOCALES = ['vi', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'vi';

const STORAGE_KEY = 'loaxa.locale';

function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

function storedLocale(): Locale {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (isLocale(stored)) return stored;
  } catch {
    // Storage can be unavailable (private mode, blocked cookies): use the default.
  }
  return DEFAULT_LOCALE;
}

export function setupI18n(): void {
  addMessages('vi', vi);
  addMessages('en', en);
  init({ fallbackLocale: DEFAULT_LOCALE, initialLocale: storedLocale() });
  locale.subscribe((value) => {
    if (value) document.documentElement.lang = value;
  });
}

export function setLocale(next: Locale): void {
  void locale.set(next);
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Not remembered; the switch still applies to this visit.
  }
}

export { isLocale };
