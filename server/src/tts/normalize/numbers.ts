/**
 * Vietnamese number reading, northern (official) conventions:
 * - 0 inside a number is "linh" (105 → một trăm linh năm), never "lẻ";
 * - a non-leading thousand group always says its hundreds (1005 → một nghìn không trăm linh năm);
 * - after "mươi": 1 → "mốt", 4 → "tư", 5 → "lăm" (21, 24, 25 → hai mươi mốt, hai mươi tư, hai mươi lăm);
 * - after "mười": 5 → "lăm", 1 and 4 stay "một", "bốn" (11, 14, 15 → mười một, mười bốn, mười lăm);
 * - after "linh": digits stay plain (101, 104, 105 → một trăm linh một, linh bốn, linh năm);
 * - scales are "nghìn", "triệu", "tỷ"; above a billion the scales stack (10^12 → một nghìn tỷ);
 * - the decimal separator is read "phẩy", a minus sign "âm".
 */

const DIGIT_WORDS = ['không', 'một', 'hai', 'ba', 'bốn', 'năm', 'sáu', 'bảy', 'tám', 'chín'] as const;

const BILLION = 1_000_000_000n;
/** Longer plain digit strings are identifiers (accounts, serials): they are read digit by digit. */
const MAX_CARDINAL_DIGITS = 15;

export function digitWord(digit: number): string {
  const word = DIGIT_WORDS[digit];
  if (word === undefined) throw new RangeError(`not a decimal digit: ${digit}`);
  return word;
}

/** "0912" → "không chín một hai". Non-digits are ignored. */
export function digitsToWords(digits: string): string {
  const words: string[] = [];
  for (const char of digits) {
    if (char >= '0' && char <= '9') words.push(digitWord(char.charCodeAt(0) - 48));
  }
  return words.join(' ');
}

/** One group of three digits; `full` when a higher group precedes it, so that "không trăm" and "linh" are said. */
function readTriple(n: number, full: boolean): string[] {
  const hundreds = Math.floor(n / 100);
  const tens = Math.floor(n / 10) % 10;
  const units = n % 10;
  const words: string[] = [];
  const saysHundreds = hundreds > 0 || full;
  if (saysHundreds) words.push(digitWord(hundreds), 'trăm');
  if (tens === 0) {
    if (units > 0) {
      if (saysHundreds) words.push('linh');
      words.push(digitWord(units));
    }
  } else if (tens === 1) {
    words.push('mười');
    if (units === 5) words.push('lăm');
    else if (units > 0) words.push(digitWord(units));
  } else {
    words.push(digitWord(tens), 'mươi');
    if (units === 1) words.push('mốt');
    else if (units === 4) words.push('tư');
    else if (units === 5) words.push('lăm');
    else if (units > 0) words.push(digitWord(units));
  }
  return words;
}

function readBelowBillion(n: bigint, full: boolean): string[] {
  const groups: ReadonlyArray<readonly [bigint, string | null]> = [
    [n / 1_000_000n, 'triệu'],
    [(n / 1000n) % 1000n, 'nghìn'],
    [n % 1000n, null],
  ];
  const words: string[] = [];
  let leading = full;
  for (const [group, scale] of groups) {
    if (group === 0n) continue;
    words.push(...readTriple(Number(group), leading));
    if (scale) words.push(scale);
    leading = true;
  }
  return words;
}

function readPositive(n: bigint, full: boolean): string[] {
  if (n < BILLION) return readBelowBillion(n, full);
  const words = [...readPositive(n / BILLION, full), 'tỷ'];
  const rest = n % BILLION;
  if (rest > 0n) words.push(...readBelowBillion(rest, true));
  return words;
}

/**
 * Cardinal reading of an integer: 21 → "hai mươi mốt", 1005 → "một nghìn không trăm linh năm", -5 → "âm năm".
 * A non-integer number is read with "phẩy" from its shortest decimal form (2.5 → "hai phẩy năm").
 */
export function numberToWords(n: bigint | number): string {
  if (typeof n === 'number') {
    if (!Number.isFinite(n)) throw new RangeError(`cannot read ${n} aloud`);
    if (!Number.isInteger(n)) {
      const decimal = String(Math.abs(n));
      if (decimal.includes('e')) throw new RangeError(`cannot read ${n} aloud`);
      return `${n < 0 ? 'âm ' : ''}${readNumeral(decimal.replace('.', ','))}`;
    }
    n = BigInt(n);
  }
  if (n < 0n) return `âm ${numberToWords(-n)}`;
  if (n === 0n) return 'không';
  return readPositive(n, false).join(' ');
}

/** Ordinal after "thứ": 1 → "nhất", 4 → "tư", otherwise the cardinal (2 → "hai", 14 → "mười bốn"). */
export function ordinalToWords(n: bigint | number): string {
  const value = BigInt(n);
  if (value === 1n) return 'nhất';
  if (value === 4n) return 'tư';
  return numberToWords(value);
}

/**
 * An integer as written. "05" → "năm" (a padded day or minute), but a longer zero-led string ("0123") or an
 * overlong one is an identifier and is read digit by digit.
 */
export function readIntegerString(digits: string): string {
  if (digits.length > 1 && digits.startsWith('0')) {
    return digits.length <= 2 ? numberToWords(BigInt(digits)) : digitsToWords(digits);
  }
  if (digits.length > MAX_CARDINAL_DIGITS) return digitsToWords(digits);
  return numberToWords(BigInt(digits));
}

/** Digits after the decimal separator: up to two without a leading zero as a number (2,25 → hai mươi lăm), else digit by digit. */
function readFraction(digits: string): string {
  if (digits.length <= 2 && !digits.startsWith('0')) return numberToWords(BigInt(digits));
  return digitsToWords(digits);
}

function withFraction(integer: string, fraction: string | undefined): string {
  return fraction === undefined ? integer : `${integer} phẩy ${readFraction(fraction)}`;
}

const VIETNAMESE_THOUSANDS = /^\d{1,3}(?:\.\d{3})+(?:,\d+)?$/;
const ENGLISH_THOUSANDS = /^\d{1,3}(?:,\d{3}){2,}(?:\.\d+)?$/;
const DOTTED = /^\d+(?:\.\d+)+$/;
const PLAIN = /^\d+(?:,\d+)?$/;

/**
 * A numeral as written in a Vietnamese notice:
 * "1.250.000" (dot thousands) → "một triệu hai trăm năm mươi nghìn"; "2,5" (decimal comma) → "hai phẩy năm";
 * "1,250,000" (two or more English thousand groups) → as the number; "2.1" (a section number) → "hai chấm một";
 * "0.5" → "không phẩy năm".
 */
export function readNumeral(numeral: string): string {
  if (VIETNAMESE_THOUSANDS.test(numeral) && !numeral.startsWith('0.')) {
    const [integer = '', fraction] = numeral.split(',');
    return withFraction(readIntegerString(integer.replaceAll('.', '')), fraction);
  }
  if (ENGLISH_THOUSANDS.test(numeral)) {
    const [integer = '', fraction] = numeral.split('.');
    return withFraction(readIntegerString(integer.replaceAll(',', '')), fraction);
  }
  if (DOTTED.test(numeral)) {
    const parts = numeral.split('.');
    if (parts.length === 2 && parts[0] === '0') return withFraction('không', parts[1]);
    return parts.map(readIntegerString).join(' chấm ');
  }
  if (PLAIN.test(numeral)) {
    const [integer = '', fraction] = numeral.split(',');
    return withFraction(readIntegerString(integer), fraction);
  }
  return digitsToWords(numeral);
}
