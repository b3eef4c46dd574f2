/**
 * Vietnamese text normalisation, run before any TTS engine so numbers, dates, money, units, phone numbers and
 * abbreviations are spoken the way a commune announcer reads them.
 */
export { normalizeVietnamese } from './normalize';
export type { NormalizeOptions } from './normalize';
export { DEFAULT_ABBREVIATIONS, DOCUMENT_CODE_ABBREVIATIONS } from './abbreviations';
export { digitsToWords, numberToWords, ordinalToWords, readNumeral } from './numbers';
export { romanToNumber } from './roman';
