/**
 * Regular-expression pieces shared by the rules. JavaScript's `\b` only knows ASCII letters, so word edges next
 * to "đ" or "ơ" are written with Unicode lookarounds instead (every rule uses the `u` flag).
 */

/**
 * A numeral as written in a notice, most specific first: dot thousands with an optional decimal comma
 * ("1.250.000", "1.250,5"), English thousands ("1,250,000"), dotted section numbers ("2.1"), plain ("2025", "2,5").
 */
export const NUMERAL = String.raw`(?:\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d{1,3}(?:,\d{3}){2,}(?:\.\d+)?|\d+(?:\.\d+)+|\d+(?:,\d+)?)`;

/** A numeral may not start inside a word or a longer number. */
export const NUMERAL_START = String.raw`(?<![\p{L}\p{N}.,])`;
