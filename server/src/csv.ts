/**
 * RFC 4180 CSV for downloads (audit log, reports): CRLF line ends and a
 * UTF-8 byte-order mark, so spreadsheet programs read Vietnamese correctly.
 *
 * Every text cell is also neutralised against formula injection (OWASP, "CSV
 * Injection"): anyone can put text into the audit log — a failed login's
 * username is written as its actor — and a spreadsheet would run
 * `=HYPERLINK(...)` when the export is opened. Quoting does not prevent that.
 */

/** First characters that make Excel, LibreOffice or Google Sheets read a cell as a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A text cell that a spreadsheet would evaluate gets a leading `'`, which
 * makes it plain text there. Only strings: a value emitted as a number (a
 * count, possibly negative) stays a number a spreadsheet can sum.
 */
export function neutraliseFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

function cell(value: unknown): string {
  const s =
    value === null || value === undefined
      ? ''
      : typeof value === 'string'
        ? neutraliseFormula(value)
        : // Numbers, booleans and objects: JSON begins with a digit, `-` (a real number), `{`, `[`, `t`, `f` or `n`.
          JSON.stringify(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A header row, then one line per row; non-string cells are written as JSON
 * (numbers as digits), text cells neutralised against formulas (see above).
 */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const lines = [header.map(cell).join(',')];
  for (const row of rows) lines.push(row.map(cell).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
