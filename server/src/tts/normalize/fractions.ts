/**
 * A fraction of something is read with "phần": "1/2 số hộ" → "1 phần 2 số hộ" (một phần hai số hộ), "khoảng 2/3
 * diện tích" → "khoảng 2 phần 3 diện tích". The digits stay for the number rule.
 *
 * "1/2" is also the first of February, so a proper fraction (numerator below denominator, both one or two digits)
 * is read as one only where the words around it say so:
 * - after a word of amount ("khoảng", "hơn", "chiếm", "giảm", "hỗ trợ"…), or
 * - before a word for what it is a part of ("số", "diện tích", "kinh phí", "học phí"…),
 * and never after a word that makes it a date ("ngày", "sáng", "từ", "đến", "Quốc khánh"…), an address, a class or a clause
 * ("số nhà 1/2", "lớp 1/2", "khoản 1/2") or a ratio ("tỷ lệ 1/2", read "trên" by the symbol rule).
 * Anything else is left to the date and symbol rules as before: "15/3", "1/6", "24/7", "39/2020/TT-BTTTT".
 */

const START = String.raw`(?<![\p{L}\p{N}/.,-])`;
const END = String.raw`(?!\p{N}|[/.,-]\p{N})`;
const FRACTION = new RegExp(String.raw`${START}(\d{1,2})\/(\d{1,2})${END}`, 'gu');

/** Words of amount that a fraction may follow. */
const AMOUNT_BEFORE =
  /(?:^|[^\p{L}])(?:khoảng|chừng|gần|hơn|trên|dưới|quá|chiếm|còn|chỉ|đạt|được|mất|giảm|tăng|thêm|hỗ trợ|miễn|bằng|ít nhất|tối đa|tối thiểu)\s*$/iu;

/** Words for what a fraction is a part of. */
const PART_OF_AFTER =
  /^\s*(?:số|tổng|trong số|diện tích|dân số|kinh phí|học phí|viện phí|chi phí|giá|giá trị|lượng|sản lượng|khối lượng|thời gian|tiền|lương|mức|quỹ|ngân sách|quãng đường|chiều dài|phần|hộ|dân|đại biểu|thành viên|cử tri|đất|vốn|đàn|nhu cầu)(?!\p{L})/iu;

/** Words that make "1/2" a date, an address, a class, a clause or a ratio. */
const NOT_A_FRACTION_BEFORE =
  /(?:^|[^\p{L}])(?:ngày|mùng|mồng|sáng|trưa|chiều|tối|đêm|hôm|từ|đến|tới|vào|lúc|dịp|hạn|lễ|tết|khánh|niệm|mừng|số|nhà|lớp|ngõ|ngách|hẻm|kiệt|tổ|khu|phòng|tầng|căn|lô|thửa|tờ|điều|khoản|mục|chương|tập|xóm|thôn|đội|ấp|tỷ lệ|tỉ lệ)\s*$/iu;

export function readFractions(text: string): string {
  return text.replace(FRACTION, (match, numerator: string, denominator: string, offset: number, whole: string) => {
    const top = Number(numerator);
    const bottom = Number(denominator);
    if (top < 1 || top >= bottom) return match;
    const before = whole.slice(Math.max(0, offset - 24), offset);
    if (NOT_A_FRACTION_BEFORE.test(before)) return match;
    const after = whole.slice(offset + match.length, offset + match.length + 24);
    if (!AMOUNT_BEFORE.test(before) && !PART_OF_AFTER.test(after)) return match;
    return `${top} phần ${bottom}`;
  });
}
