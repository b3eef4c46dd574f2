import { digitsToWords } from './numbers';

/**
 * Phone numbers are read digit by digit, group by group, with a comma between groups so the engine pauses where a
 * listener writes: "0912 345 678" → "không chín một hai, ba bốn năm, sáu bảy tám".
 */

/** "+84 912 345 678", "(024) 3825 1234", "0912.345.678", "0912345678", "024 3825 1234". */
const PHONE =
  /(?<![\p{L}\p{N}+])(?:\+84[ .-]?|\(0\d{2,3}\)[ .-]?|0)\d{2,4}(?:[ .-]?\d{2,4}){1,2}(?!\p{N}|[.,-]\p{N})/gu;

/** Toll-free and premium service lines: "1800 599 920", "1900.1234". */
const SERVICE_LINE = /(?<![\p{L}\p{N}])1[89]00(?:[ .]?\d{2,4}){1,2}(?!\p{N}|[.,-]\p{N})/gu;

/** Emergency lines 111–115 are only phone numbers after a word that says so ("gọi 115", "đường dây nóng 113"). */
const HOTLINE =
  /(?<=(?:gọi|hotline|đường dây nóng|tổng đài|cấp cứu|cứu hỏa|cứu hoả|khẩn cấp|sđt|điện thoại)(?:\s+(?:ngay|đến|tới|cho|số|theo|qua))*\s*:?\s*(?:11[1-5](?:\s*,\s*|\s+(?:hoặc|và)\s+))*)11[1-5](?![\p{L}\p{N}])/giu;

function readGroups(groups: readonly string[]): string {
  return groups.map(digitsToWords).join(', ');
}

/**
 * Splits unseparated national digits the way they are printed: 4-3-3 for mobiles, 3-4-4 for landlines. After
 * "+84" the trunk "0" is not said.
 */
function groupNational(national: string, international: boolean): string[] {
  const groups =
    national.length === 11
      ? [national.slice(0, 3), national.slice(3, 7), national.slice(7)]
      : [national.slice(0, 4), national.slice(4, 7), national.slice(7)];
  return international ? groups.map((group, i) => (i === 0 ? group.slice(1) : group)) : groups;
}

function readPhone(written: string): string {
  const international = written.startsWith('+84');
  const local = international ? written.slice(3) : written;
  const national = `${international ? '0' : ''}${local.replace(/\D/g, '')}`;
  // Landlines (02x…) and old mobiles (01x…) have 11 digits, mobiles 10.
  if (national.length !== (/^0[12]/.test(national) ? 11 : 10)) return written;
  const printed = local.split(/\D+/).filter((group) => group !== '');
  const groups = printed.length > 1 ? printed : groupNational(national, international);
  return `${international ? 'cộng tám bốn, ' : ''}${readGroups(groups)}`;
}

function readServiceLine(written: string): string {
  const digits = written.replace(/\D/g, '');
  if (digits.length !== 8 && digits.length !== 10) return written;
  const printed = written.split(/\D+/).filter((group) => group !== '');
  return readGroups(printed.length > 1 ? printed : [digits.slice(0, 4), digits.slice(4)]);
}

export function readPhoneNumbers(text: string): string {
  return text
    .replace(PHONE, readPhone)
    .replace(SERVICE_LINE, readServiceLine)
    .replace(HOTLINE, (digits) => digitsToWords(digits));
}
