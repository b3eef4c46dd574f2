/**
 * RFC 4180 CSV for downloads (audit log, reports): CRLF line ends and a
 * UTF-8 byte-order mark, so spreadsheet programs read Vietnamese correctly.
 */

function cell(value: unknown): string {
  const s = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A header row, then one line per row; non-string cells are written as JSON (numbers as digits). */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const lines = [header.map(cell).join(',')];
  for (const row of rows) lines.push(row.map(cell).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
