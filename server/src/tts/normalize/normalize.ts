import { abbreviationExpander } from './abbreviations';
import type { AbbreviationExpander } from './abbreviations';
import { readDates } from './dates';
import { readFractions } from './fractions';
import { numberToWords, ordinalToWords, readNumeral } from './numbers';
import { NUMERAL } from './patterns';
import { readPhoneNumbers } from './phones';
import { romanToNumber } from './roman';
import { readTimes } from './times';
import { readUnits } from './units';

export interface NormalizeOptions {
  /** A commune's own abbreviations; they win over DEFAULT_ABBREVIATIONS and are matched the same way. */
  abbreviations?: Readonly<Record<string, string>>;
}

/**
 * "số 15/2018/NĐ-CP" → "số 15 năm 2018 nghị định chính phủ", "123/QĐ-UBND" → "123 quyết định ủy ban nhân dân":
 * announcers read a document number, its year, then its issuer.
 */
const DOCUMENT_NUMBER = /(?<![\p{L}\p{N}/.,])(\d+)(?:\/((?:19|20)\d{2}))?\/(\p{Lu}[\p{L}&]*(?:-\p{L}[\p{L}&]*)*)/gu;

function readDocumentNumbers(text: string, abbreviations: AbbreviationExpander): string {
  return text.replace(
    DOCUMENT_NUMBER,
    (_match, number: string, year: string | undefined, code: string) =>
      `${number}${year ? ` năm ${year}` : ''} ${abbreviations.expandCode(code)}`,
  );
}

/**
 * Roman numerals after the words that take them. "lần thứ", "kỳ họp thứ" are ordinals (I → nhất, IV → tư),
 * "hạng" uses the ranking words (I → nhất, II → nhì), everything else is a cardinal ("Quý IV" → "Quý bốn").
 * The keyword stays as written; only I, V, X, L are accepted so "Phần C" is not read as a hundred.
 */
const ROMAN_AFTER =
  /(?<![\p{L}\p{N}])(quý|khóa|khoá|đại\s+hội|thế\s+kỷ|thế\s+kỉ|lần\s+thứ|kỳ\s+họp\s+thứ|kì\s+họp\s+thứ|chương|phần|mục|đợt|giai\s+đoạn|cấp|hạng)\s+([IVXL]+)(?![\p{L}\p{N}])/giu;
const RANKS = ['', 'nhất', 'nhì', 'ba', 'tư'] as const;

function readRomanNumerals(text: string): string {
  return text.replace(ROMAN_AFTER, (match, keyword: string, numeral: string) => {
    const value = romanToNumber(numeral);
    if (value === null) return match;
    const lower = keyword.toLowerCase();
    let words: string;
    if (lower === 'hạng') words = RANKS[value] ?? numberToWords(value);
    else if (/thứ$/.test(lower)) words = ordinalToWords(value);
    else words = numberToWords(value);
    return `${keyword} ${words}`;
  });
}

/**
 * A dash between two quantities is "đến": "10-15 ngày", "7 giờ - 9 giờ", "20 - 25 độ xê", "thứ 2 - thứ 6",
 * "6-59 tháng tuổi", "cấp 10-11", "2021-2025". The left side may carry the unit words the earlier rules wrote out,
 * or the same words as the right side ("2 lần - 3 lần", "5 người – 7 người").
 */
const RANGE_UNIT_WORDS = (
  'giờ phút giây ngày tuần tháng năm tuổi độ xê phần trăm đồng nghìn ngàn triệu tỷ ' +
  'mét vuông khối ki lô gam lít mi li xen ti héc ta tấn tạ oát vôn mê ga am pe rưỡi'
).replaceAll(' ', '|');
const RANGE = new RegExp(
  String.raw`(\d)((?:\s+(?:\d{1,2}\s+)?(?:${RANGE_UNIT_WORDS})(?!\p{L}))*)\s*[-–—]\s*(?=(?:(?:thứ|ngày|tháng)\s+)?\d)`,
  'giu',
);
const SAME_WORDS_RANGE = /(\d)(\s+\p{L}+(?:\s+\p{L}+)?)\s*[-–—]\s*(?=\d[\d.,]*\2(?!\p{L}))/giu;

function readRanges(text: string): string {
  return text
    .replace(RANGE, (_match, digit: string, unit: string) => `${digit}${unit} đến `)
    .replace(SAME_WORDS_RANGE, (_match, digit: string, words: string) => `${digit}${words} đến `);
}

/**
 * A score is not a range: "tỷ số 2-1", "thắng 3 - 0", "hòa 1-1" are read number by number ("hai một"), the way
 * sports news says them. Only after a word of scoring in lower case ("Hòa", "Thắng" are also names), not in
 * "chiến thắng 30-4" (a date), and not before "trận", "lần"… ("thắng 2-3 trận" is a range).
 */
const SCORE =
  /(?<![\p{L}\p{N}])(?<!chiến\s+)([Tt][ỷỉ]\s+số|[Cc]hung\s+cuộc|thắng|thua|hòa|hoà)(\s*(?:là\s+)?:?\s*)(\d{1,2})\s*[-–—:]\s*(\d{1,2})(?!\p{N}|[.,/:]\p{N}|\s*(?:trận|ván|lần|hiệp|bàn|điểm|ngày|tuần|tháng|năm|tuổi|giờ|phút)(?!\p{L}))/gu;

function readScores(text: string): string {
  return text.replace(
    SCORE,
    (_match, cue: string, gap: string, home: string, away: string) => `${cue}${gap}${home} ${away}`,
  );
}

/** "thứ 2" → "thứ hai", "thứ 4" → "thứ tư", "thứ 1" → "thứ nhất"; "tháng 4" → "tháng tư". */
const ORDINAL = /(?<![\p{L}\p{N}])(thứ)\s+(\d{1,3})(?!\p{N}|[.,]\p{N})/giu;
const MONTH = /(?<![\p{L}\p{N}])(tháng)\s+(\d{1,2})(?!\p{N}|[.,/]\p{N})/giu;

function readOrdinalsAndMonths(text: string): string {
  return text
    .replace(ORDINAL, (_match, word: string, n: string) => `${word} ${ordinalToWords(Number(n))}`)
    .replace(MONTH, (match, word: string, n: string) => {
      const month = Number(n);
      if (month < 1 || month > 12) return match;
      return `${word} ${month === 4 ? 'tư' : numberToWords(month)}`;
    });
}

/**
 * Symbols the engines skip or misread: "~50" → "khoảng 50", " & " → " và ", "12/3" (not a date) → "12 trên 3",
 * "tỷ lệ 1:50.000" → "tỷ lệ 1 trên 50.000".
 */
function readSymbols(text: string): string {
  return text
    .replace(/~\s?(?=\d)/gu, 'khoảng ')
    .replace(/(?<=t[ỷỉ] lệ\s*[\d.,]+)\s?:\s?(?=\d)/giu, ' trên ')
    .replace(/(?<=\s)&(?=\s)/gu, 'và')
    .replace(/(\d)\s?\/\s?(?=\d)/gu, '$1 trên ');
}

/** Every number still in digits, with a minus sign "âm" when it stands in front of the number. */
const NUMBER = new RegExp(String.raw`(?:(?<![\p{L}\p{N}])([-−]))?(?<!\p{N})(${NUMERAL})(?!\p{N})`, 'gu');

function readNumbers(text: string): string {
  return text.replace(NUMBER, (match, minus: string | undefined, numeral: string, offset: number, whole: string) => {
    const words = `${minus ? 'âm ' : ''}${readNumeral(numeral)}`;
    // "F0", "QL1A": keep the letters apart from the words that replace the digits.
    const before = /\p{L}/u.test(whole.charAt(offset - 1)) ? ' ' : '';
    const after = /\p{L}/u.test(whole.charAt(offset + match.length)) ? ' ' : '';
    return `${before}${words}${after}`;
  });
}

/** One space between words, one line break between lines, none before a pause mark. */
function tidyWhitespace(text: string): string {
  return text
    .replace(/[^\S\n]+/gu, ' ')
    .replace(/ ?\n\s*/gu, '\n')
    .replace(/ +(?=[,.;:!?])/gu, '')
    .trim();
}

/**
 * Rewrites a Vietnamese notice so a TTS engine says numbers, dates, times, money, units, phone and hotline numbers,
 * fractions, ranges, scores, Roman numerals and abbreviations the way a commune announcer would. Pure and deterministic; only what it expands is
 * lower-cased, and sentence punctuation is kept for the engine's pauses.
 */
export function normalizeVietnamese(text: string, options: NormalizeOptions = {}): string {
  const abbreviations = abbreviationExpander(options.abbreviations);
  let out = text.normalize('NFC');
  out = readPhoneNumbers(out);
  out = readDocumentNumbers(out, abbreviations);
  out = abbreviations.expandText(out);
  out = readFractions(out);
  out = readDates(out);
  out = readRomanNumerals(out);
  out = readScores(out);
  out = readTimes(out);
  out = readUnits(out);
  out = readRanges(out);
  out = readOrdinalsAndMonths(out);
  out = readSymbols(out);
  out = readNumbers(out);
  return tidyWhitespace(out);
}
