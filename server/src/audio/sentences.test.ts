import { describe, expect, it } from 'vitest';
import { splitSentences } from './sentences';

describe('splitSentences', () => {
  it.each([
    ['one sentence', 'Xin chào bà con.', ['Xin chào bà con.']],
    [
      '. ! ? ;',
      'Mưa lớn. Bà con chú ý! Đã rõ chưa? Có; không',
      ['Mưa lớn.', 'Bà con chú ý!', 'Đã rõ chưa?', 'Có;', 'không'],
    ],
    [
      'line breaks, blank lines, CRLF',
      'Thông báo\r\n\r\nHọp lúc 7 giờ\nTại nhà văn hóa',
      ['Thông báo', 'Họp lúc 7 giờ', 'Tại nhà văn hóa'],
    ],
    [
      'no split inside numbers',
      'Họp lúc 7.30 sáng, phí 1.000.000 đồng. Xong.',
      ['Họp lúc 7.30 sáng, phí 1.000.000 đồng.', 'Xong.'],
    ],
    [
      'ellipsis and closing quote stay with the sentence',
      'Ông nói: "Đi ngay." Rồi… Hết.',
      ['Ông nói: "Đi ngay."', 'Rồi…', 'Hết.'],
    ],
    ['punctuation-only pieces dropped', '... ! Chào.  ', ['Chào.']],
    ['empty', '   \n ', []],
    ['whitespace collapsed', 'Bà   con\t chú ý.', ['Bà con chú ý.']],
  ])('%s', (_name, text, expected) => {
    expect(splitSentences(text)).toEqual(expected);
  });

  it.each([
    [
      'long sentence falls back to commas, packed up to the limit',
      'aaa bbb, ccc ddd, eee fff, ggg.',
      20,
      ['aaa bbb, ccc ddd,', 'eee fff, ggg.'],
    ],
    ['no commas: falls back to spaces', 'một hai ba bốn năm sáu bảy', 10, ['một hai ba', 'bốn năm', 'sáu bảy']],
    ['a word longer than the limit is cut', 'abcdefghij', 4, ['abcd', 'efgh', 'ij']],
  ])('%s', (_name, text, max, expected) => {
    const pieces = splitSentences(text, max);
    expect(pieces).toEqual(expected);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(max);
  });

  it('keeps every word of a long Vietnamese notice, each piece within 400 chars', () => {
    const sentence = 'Ủy ban nhân dân xã thông báo, ngày mai có mưa lớn, bà con chú ý giữ an toàn cho người và tài sản';
    const text = `${Array.from({ length: 8 }, () => sentence).join(', ')}. Xin cảm ơn.`;
    const pieces = splitSentences(text);
    expect(pieces.length).toBeGreaterThan(2);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(400);
    expect(pieces.join(' ').split(/\s+/)).toEqual(text.split(/\s+/));
  });

  it('refuses a bad limit', () => {
    expect(() => splitSentences('a', 0)).toThrow(/maxChars/);
  });
});
