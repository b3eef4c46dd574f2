import { romanToNumber } from './roman';

/**
 * Dates become words around their digits ("15/3/2026" → "ngày 15 tháng 3 năm 2026"); the digits are read by the
 * month and number rules later, so "tháng 4" still becomes "tháng tư".
 */

/** A day cue already in the text is kept as written ("Ngày 15/3" → "Ngày 15 tháng 3"), otherwise "ngày" is added. */
const DAY_CUE = 'ngày|mùng|mồng';
const START = String.raw`(?<![\p{L}\p{N}/.,-])`;
const END = String.raw`(?!\p{N}|[/.,-]\p{N})`;

const FULL_DATE = new RegExp(String.raw`${START}(?:(${DAY_CUE})\s+)?(\d{1,2})([/.-])(\d{1,2})\3(\d{4})${END}`, 'giu');
/** "ngày 15-20/3", "15 - 20/3/2026": a span of days in one month. */
const DAY_SPAN = new RegExp(
  String.raw`${START}(?:(${DAY_CUE})\s+)?(\d{1,2})\s*[-–]\s*(\d{1,2})\/(\d{1,2})(?:\/(\d{4}))?${END}`,
  'giu',
);
/** "tháng 10-12/2025", "10 - 11/2025": a span of months in one year. */
const MONTH_SPAN = new RegExp(String.raw`${START}(?:(tháng)\s+)?(\d{1,2})\s*[-–]\s*(\d{1,2})\/(\d{4})${END}`, 'giu');
const MONTH_YEAR = new RegExp(String.raw`${START}(?:(tháng)\s+)?(\d{1,2})([/.-])(\d{4})${END}`, 'giu');
const DAY_MONTH = new RegExp(String.raw`${START}(?:(${DAY_CUE})\s+)?(\d{1,2})([/.-])(\d{1,2})${END}`, 'giu');

/** "Quý 2/2026", "quý II-2026" → "Quý 2 năm 2026" (a quarter, not February). */
const QUARTER = /(?<![\p{L}\p{N}])(quý)\s+([1-4]|IV|I{1,3})\s*[/-]\s*(\d{4})(?!\p{N})/giu;

/**
 * Without a cue only a slash makes a date, and not after a word that makes "12/3" an address, a class, a clause
 * or an amount ("số nhà 12/3", "lớp 9/2", "khoảng 12/3"). A fraction of something ("1/2 số hộ", "hơn 2/3 diện
 * tích") has been read with "phần" before this rule (fractions.ts).
 */
const NOT_A_DATE_AFTER =
  /(?:^|[^\p{L}])(?:số|nhà|lớp|ngõ|ngách|hẻm|kiệt|tổ|khu|phòng|tầng|căn|lô|thửa|tờ|điều|khoản|mục|chương|phần|tập|xóm|thôn|đội|ấp|tỷ lệ|tỉ lệ|khoảng|gần|hơn|chiếm|được|còn|trực)\s*$/iu;

function isDay(day: string): boolean {
  const n = Number(day);
  return n >= 1 && n <= 31;
}

function isMonth(month: string): boolean {
  const n = Number(month);
  return n >= 1 && n <= 12;
}

function bareSlashAllowed(separator: string, whole: string, offset: number): boolean {
  return separator === '/' && !NOT_A_DATE_AFTER.test(whole.slice(Math.max(0, offset - 24), offset));
}

const plain = (digits: string): string => String(Number(digits));

export function readDates(text: string): string {
  return text
    .replace(QUARTER, (match, quarter: string, numeral: string, year: string) => {
      const value = /^\d$/.test(numeral) ? numeral : romanToNumber(numeral);
      return value === null ? match : `${quarter} ${value} năm ${year}`;
    })
    .replace(FULL_DATE, (match, cue: string | undefined, day: string, _sep: string, month: string, year: string) =>
      isDay(day) && isMonth(month) ? `${cue ?? 'ngày'} ${plain(day)} tháng ${plain(month)} năm ${year}` : match,
    )
    .replace(
      DAY_SPAN,
      (
        match,
        cue: string | undefined,
        from: string,
        to: string,
        month: string,
        year: string | undefined,
        offset: number,
        whole: string,
      ) => {
        if (!isDay(from) || !isDay(to) || !isMonth(month) || Number(from) >= Number(to)) return match;
        if (!cue && !bareSlashAllowed('/', whole, offset)) return match;
        const inYear = year ? ` năm ${year}` : '';
        return `${cue ?? 'ngày'} ${plain(from)} đến ${plain(to)} tháng ${plain(month)}${inYear}`;
      },
    )
    .replace(
      MONTH_SPAN,
      (match, cue: string | undefined, from: string, to: string, year: string, offset: number, whole: string) => {
        if (!isMonth(from) || !isMonth(to) || Number(from) >= Number(to)) return match;
        if (!cue && !bareSlashAllowed('/', whole, offset)) return match;
        return `${cue ?? 'tháng'} ${plain(from)} đến tháng ${plain(to)} năm ${year}`;
      },
    )
    .replace(
      MONTH_YEAR,
      (
        match,
        cue: string | undefined,
        month: string,
        separator: string,
        year: string,
        offset: number,
        whole: string,
      ) => {
        if (!isMonth(month) || (!cue && !bareSlashAllowed(separator, whole, offset))) return match;
        return `${cue ?? 'tháng'} ${plain(month)} năm ${year}`;
      },
    )
    .replace(
      DAY_MONTH,
      (
        match,
        cue: string | undefined,
        day: string,
        separator: string,
        month: string,
        offset: number,
        whole: string,
      ) => {
        if (!isDay(day) || !isMonth(month) || (!cue && !bareSlashAllowed(separator, whole, offset))) return match;
        return `${cue ?? 'ngày'} ${plain(day)} tháng ${plain(month)}`;
      },
    );
}
