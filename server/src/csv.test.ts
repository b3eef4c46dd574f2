import { describe, expect, it } from 'vitest';
import { toCsv } from './csv';

/** The data line of a one-row CSV, without the BOM, header and line end. */
const line = (...cells: unknown[]) => toCsv(['a'], [cells]).slice(1).split('\r\n')[1];

describe('toCsv', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+1+1', "'+1+1"],
    ['-1+1', "'-1+1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['\r=1+1', `"'\r=1+1"`],
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
  ])('prefixes a text cell starting like a formula: %j', (text, expected) => {
    expect(line(text)).toBe(expected);
  });

  it('leaves other text alone, formula characters later in the cell included', () => {
    expect(line('Thôn Đông', 'a=b', 'x-1', 'email@example.com', ' =1')).toBe('Thôn Đông,a=b,x-1,email@example.com, =1');
  });

  it('keeps numbers numeric, negative ones included, and writes objects as JSON', () => {
    expect(line(-5, 0, 12.5, true, null, undefined, { name: '=x' })).toBe('-5,0,12.5,true,,,"{""name"":""=x""}"');
  });

  it('neutralises the header row too', () => {
    expect(toCsv(['=id'], []).slice(1)).toBe("'=id\r\n");
  });
});
