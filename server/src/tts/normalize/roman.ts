const CANONICAL_ROMAN = /^(?=[MDCLXVI])M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})$/;
const VALUES: Readonly<Record<string, number>> = { I: 1, V: 5, X: 10, L: 50, C: 100, D: 500, M: 1000 };

/** "XIV" → 14; null unless the text is a canonical upper-case Roman numeral (so "IIII" and "iv" are refused). */
export function romanToNumber(text: string): number | null {
  if (!CANONICAL_ROMAN.test(text)) return null;
  let total = 0;
  for (let i = 0; i < text.length; i++) {
    const value = VALUES[text.charAt(i)] ?? 0;
    const next = VALUES[text.charAt(i + 1)] ?? 0;
    total += value < next ? -value : value;
  }
  return total;
}
