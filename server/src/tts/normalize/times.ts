/**
 * Clock times become "giờ"/"phút" around their digits: "7h30" → "7 giờ 30 phút", "17:00" → "17 giờ".
 * Whole hours say no minutes; a padded minute is read as its value (7h05 → bảy giờ năm phút).
 */

/** "7h", "7h30", "7H30'", "7h30p", "7g30" ("g" only with minutes: a lone "200g" is grams). */
const HOUR_MARK =
  /(?<![\p{L}\p{N}.,:])(\d{1,2})(?:[hH]|g(?=\d{2}))(?:(\d{2})(?:\s?(?:phút|ph|p|'|’)(?![\p{L}\p{N}]))?)?(?![\p{L}\p{N}])/gu;

/** "17:00", "7:30:15", "17:00 giờ", "17:00h". */
const CLOCK =
  /(?<![\p{L}\p{N}.,:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s?(?:giờ|h)(?![\p{L}\p{N}]))?(?!\p{N}|[:.,]\p{N})/gu;

/** "tỷ lệ 1:50" is a ratio, not ten to two. */
const RATIO_BEFORE = /t[ỷỉ] lệ\s*$/iu;

/** A lone hour mark may be a duration ("trong 48h"); with minutes it is a time of day. */
function spoken(hour: string, minute = '0', second = '0'): string | null {
  const h = Number(hour);
  const m = Number(minute);
  const s = Number(second);
  if ((h > 24 && (m > 0 || s > 0)) || m > 59 || s > 59) return null;
  let words = `${h} giờ`;
  if (m > 0) words += ` ${m} phút`;
  if (s > 0) words += ` ${s} giây`;
  return words;
}

export function readTimes(text: string): string {
  return text
    .replace(HOUR_MARK, (match, hour: string, minute: string | undefined) => spoken(hour, minute) ?? match)
    .replace(
      CLOCK,
      (match, hour: string, minute: string, second: string | undefined, offset: number, whole: string) => {
        if (Number(hour) > 24 || RATIO_BEFORE.test(whole.slice(Math.max(0, offset - 12), offset))) return match;
        return spoken(hour, minute, second) ?? match;
      },
    );
}
