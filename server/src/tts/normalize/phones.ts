import { digitsToWords } from './numbers';

/**
 * Phone numbers are read digit by digit, group by group, with a comma between groups so the engine pauses where a
 * listener writes: "0912 345 678" → "không chín một hai, ba bốn năm, sáu bảy tám".
 */

/** "+84 912 345 678", "(024) 3825 1234", "0912.345.678", "0912345678", "024 3825 1234". */
const PHONE_BODY = String.raw`(?:\+84[ .-]?|\(0\d{2,3}\)[ .-]?|0)\d{2,4}(?:[ .-]?\d{2,4}){1,2}`;
const PHONE = new RegExp(String.raw`(?<![\p{L}\p{N}+])${PHONE_BODY}(?!\p{N}|[.,-]\p{N})`, 'gu');

/**
 * Toll-free and premium service lines, 8 or 10 digits as printed: "1800 599 920", "1900.1234", "1900 96 96 80".
 * A dash is accepted only after a hotline word ("hotline 1800-1091"), since "1900-1945" is a span of years.
 */
function serviceLineBody(separator: string): string {
  const s = `${separator}?`;
  const g = separator;
  return String.raw`1[89]00(?:${s}\d{3}${s}\d{3}|${g}\d{2}${g}\d{2}${g}\d{2}|${s}\d{4}|${g}\d{2}${g}\d{2})`;
}
const SERVICE_LINE = new RegExp(String.raw`(?<![\p{L}\p{N}])${serviceLineBody('[ .]')}(?!\p{N}|[.,-]\p{N})`, 'gu');

/**
 * Words after which a number is a line to call. Switchboards and hotlines ("tổng đài 1022", "đường dây nóng 1080",
 * "Hotline: 116", "SĐT 1022") name one outright; after a verb or a general word ("gọi", "liên hệ", "điện thoại")
 * a short number may still be a quantity ("kêu gọi 500 hộ tham gia"), so there it must end the phrase.
 */
const LINE_WORDS = String.raw`hotline|đường\s+dây\s+nóng|đường\s+dây\s+hỗ\s+trợ|tổng\s+đài|số\s+điện\s+thoại|sđt|đầu\s+số`;
const CALL_WORDS = String.raw`gọi|liên\s+hệ|cấp\s+cứu|cứu\s+hỏa|cứu\s+hoả|khẩn\s+cấp|điện\s+thoại`;
const FILLER = String.raw`(?:\s+(?:ngay|đến|tới|cho|số|theo|qua|miễn\s+phí|trực\s+tiếp))*\s*:?\s*`;
/** A switchboard, hotline or short code: 3 or 4 digits, not a padded or grouped number. */
const SHORT_LINE = String.raw`[1-9]\d{2,3}`;
const LINE_ITEM = String.raw`(?:${PHONE_BODY}|${serviceLineBody('[ .-]')}|${SHORT_LINE})(?![\p{L}\p{N}]|[.,-]\p{N})`;
const LINE_SEPARATOR = String.raw`\s*[,;/]\s*|\s+(?:hoặc|hay|và)\s+`;
const CALL_LINES = new RegExp(
  String.raw`(?<![\p{L}\p{N}])(?:(${LINE_WORDS})|(${CALL_WORDS}))(${FILLER})(${LINE_ITEM}(?:(?:${LINE_SEPARATOR})${LINE_ITEM})*)`,
  'giu',
);
const ONE_LINE_ITEM = new RegExp(LINE_ITEM, 'gu');
/**
 * What may follow a number that a verb called: the end of the phrase, punctuation, a name, or a word that carries
 * the sentence on ("gọi 1022 để phản ánh"); a noun there makes it a quantity ("gọi 120 thanh niên").
 */
const PHRASE_GOES_ON =
  /^(?:$|\s*[^\s\p{L}\p{N}]|\s+\p{Lu}|\s+(?:để|hoặc|hay|và|khi|nếu|của|miễn|ngay|trong|từ|lúc|vào|nhằm|thì|mà|được)(?!\p{L}))/u;
/** 111–119 are national public lines (113 police, 114 fire, 115 ambulance, 116 directory…): after any cue, a call. */
const EMERGENCY = /^11\d$/;

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

/**
 * A list of lines after a hotline word or a call: "tổng đài 1022", "gọi ngay 113, 114 hoặc 115", "hotline 1800-1091
 * hoặc 0912 345 678". Short numbers are read digit by digit ("một không hai hai"); a verb's short number that a
 * noun follows ("gọi 120 thanh niên nhập ngũ") is a quantity and is left to the number rule.
 */
function readCalledLines(
  match: string,
  lineWord: string | undefined,
  _callWord: string | undefined,
  filler: string,
  list: string,
  offset: number,
  whole: string,
): string {
  const named = lineWord !== undefined || /(?<!\p{L})số(?!\p{L})/iu.test(filler);
  const endsPhrase = PHRASE_GOES_ON.test(whole.slice(offset + match.length, offset + match.length + 24));
  const read = list.replace(ONE_LINE_ITEM, (item: string) => {
    if (/^[+(0]/.test(item)) return readPhone(item);
    if (/^1[89]00/.test(item) && item.replace(/\D/g, '').length >= 8) return readServiceLine(item);
    return named || endsPhrase || EMERGENCY.test(item) ? digitsToWords(item) : item;
  });
  return match.slice(0, match.length - list.length) + read;
}

export function readPhoneNumbers(text: string): string {
  return text.replace(CALL_LINES, readCalledLines).replace(PHONE, readPhone).replace(SERVICE_LINE, readServiceLine);
}
