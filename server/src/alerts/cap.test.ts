/**
 * parseCapAlert against CAP files written in the shapes real feeds use
 * (server/test/fixtures/cap/), hostile documents, and a seeded fuzz run that
 * mutates the good files: the parser returns a valid alert or throws CapError,
 * never anything else, and never takes long.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CAP_CATEGORIES,
  CAP_CERTAINTIES,
  CAP_MSG_TYPES,
  CAP_SCOPES,
  CAP_SEVERITIES,
  CAP_STATUSES,
  CAP_URGENCIES,
  CapError,
  DEFAULT_MAX_CAP_BYTES,
  parseCapAlert,
  type CapAlert,
  type ParseCapOptions,
} from './cap';

const FIXTURES = new URL('../../test/fixtures/cap/', import.meta.url);
const fixtureBytes = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));
const fixtureText = (name: string): string => fixtureBytes(name).toString('utf8');

const GOOD = [
  'lu-lao-cai.xml',
  'lu-lao-cai-update.xml',
  'lu-lao-cai-cancel.xml',
  'bao-so-5.xml',
  'sat-lo-yen-bai.xml',
  'thu-nghiem.xml',
];

const FLOOD_ID = '2.49.0.1.704.0.20261012073000.LU.0001';
const UPDATE_ID = '2.49.0.1.704.0.20261012133000.LU.0002';
const NCHMF = 'canhbao@nchmf.gov.vn';

/** The refusal of `input`, checked to be a CapError reached quickly. */
function refusal(input: string | Buffer, options?: ParseCapOptions): CapError {
  const started = performance.now();
  let thrown: unknown;
  try {
    parseCapAlert(input, options);
  } catch (error) {
    thrown = error;
  }
  const elapsedMs = performance.now() - started;
  expect(thrown, 'expected the document to be refused').toBeInstanceOf(CapError);
  expect(elapsedMs).toBeLessThan(2000);
  return thrown as CapError;
}

/** The flood fixture with one piece of text replaced (which must be there, so a changed fixture fails loudly). */
function floodWith(from: string | RegExp, to: string): string {
  const text = fixtureText('lu-lao-cai.xml');
  const replaced = text.replace(from, to);
  expect(replaced, `fixture should contain ${String(from)}`).not.toBe(text);
  return replaced;
}

describe('parseCapAlert: good alerts', () => {
  it('reads the flood warning with its polygon, dates, Vietnamese text and decoded entities', () => {
    const alert = parseCapAlert(fixtureBytes('lu-lao-cai.xml'));
    expect(alert).toMatchObject({
      identifier: FLOOD_ID,
      sender: NCHMF,
      status: 'Actual',
      msgType: 'Alert',
      scope: 'Public',
      references: [],
    });
    // 07:30 at UTC+7 is 00:30 UTC.
    expect(alert.sent.toISOString()).toBe('2026-10-12T00:30:00.000Z');
    expect(alert.infos).toHaveLength(1);
    const info = alert.infos[0]!;
    expect(info.language).toBe('vi-VN');
    expect(info.categories).toEqual(['Met']);
    expect(info.event).toBe('Lũ');
    expect(info.responseTypes).toEqual(['Prepare', 'Evacuate']);
    expect([info.urgency, info.severity, info.certainty]).toEqual(['Immediate', 'Severe', 'Likely']);
    expect(info.effective?.toISOString()).toBe('2026-10-12T00:30:00.000Z');
    expect(info.onset?.toISOString()).toBe('2026-10-12T05:00:00.000Z');
    expect(info.expires?.toISOString()).toBe('2026-10-13T12:00:00.000Z');
    expect(info.senderName).toBe('Trung tâm Dự báo khí tượng thủy văn quốc gia');
    expect(info.headline).toBe('Cảnh báo lũ trên sông Hồng tại Lào Cai');
    // "&amp;" in the file is one "&"; "&#7841;" is "ạ" (U+1EA1).
    expect(info.description).toContain('lũ tiếp tục lên & có khả năng vượt báo động 3');
    expect(info.description).not.toContain('&amp;');
    expect(info.instruction).toContain('lũ quét, sạt lở đất');
    expect(info.web).toBe('https://nchmf.gov.vn/canh-bao/lu');
    expect(info.eventCodes).toEqual([{ valueName: 'LOAI_THIEN_TAI', value: 'LU' }]);
    expect(info.parameters).toEqual([
      { valueName: 'CAP_DO_RUI_RO', value: '3' },
      { valueName: 'MUC_NUOC_DU_BAO', value: '83,00 m' },
    ]);
    expect(info.areas).toHaveLength(1);
    const area = info.areas[0]!;
    expect(area.areaDesc).toBe('Thành phố Lào Cai, huyện Bát Xát và huyện Bảo Thắng (tỉnh Lào Cai)');
    expect(area.polygons).toEqual([
      [
        [22.62, 103.8],
        [22.62, 104.05],
        [22.3, 104.25],
        [22.2, 104.1],
        [22.45, 103.85],
        [22.62, 103.8],
      ],
    ]);
    expect(area.circles).toEqual([]);
    expect(area.geocodes).toEqual([{ valueName: 'ISO3166-2', value: 'VN-02' }]);
  });

  it('keeps Vietnamese text byte for byte, from bytes and from a string alike', () => {
    const fromBytes = parseCapAlert(fixtureBytes('lu-lao-cai.xml'));
    const fromString = parseCapAlert(fixtureText('lu-lao-cai.xml'));
    expect(fromString).toEqual(fromBytes);
    const headline = fromBytes.infos[0]!.headline!;
    // The file is NFC; nothing may decompose or re-encode it on the way.
    expect(Buffer.from(headline, 'utf8').equals(Buffer.from('Cảnh báo lũ trên sông Hồng tại Lào Cai', 'utf8'))).toBe(
      true,
    );
    expect(fixtureText('lu-lao-cai.xml')).toContain(fromBytes.infos[0]!.areas[0]!.areaDesc);
    // A byte-order mark in front changes nothing.
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), fixtureBytes('lu-lao-cai.xml')]);
    expect(parseCapAlert(withBom)).toEqual(fromBytes);
  });

  it('reads the Update and Cancel chain back to the first alert through references', () => {
    const first = parseCapAlert(fixtureBytes('lu-lao-cai.xml'));
    const update = parseCapAlert(fixtureBytes('lu-lao-cai-update.xml'));
    const cancel = parseCapAlert(fixtureBytes('lu-lao-cai-cancel.xml'));

    expect(update.msgType).toBe('Update');
    expect(update.identifier).toBe(UPDATE_ID);
    expect(update.references).toEqual([{ sender: NCHMF, identifier: FLOOD_ID, sent: first.sent }]);
    expect(update.infos[0]!.severity).toBe('Extreme');
    expect(update.infos[0]!.headline).toBe('Lũ trên sông Hồng tại Lào Cai đã vượt báo động 3');

    expect(cancel.msgType).toBe('Cancel');
    expect(cancel.references.map((r) => [r.sender, r.identifier, r.sent.getTime()])).toEqual([
      [first.sender, first.identifier, first.sent.getTime()],
      [update.sender, update.identifier, update.sent.getTime()],
    ]);
    expect(cancel.infos[0]!.responseTypes).toEqual(['AllClear']);
    expect(cancel.infos[0]!.urgency).toBe('Past');
  });

  it('reads the storm warning: prefixed namespace, circle, CDATA kept literal, language defaulting to en-US', () => {
    const alert = parseCapAlert(fixtureBytes('bao-so-5.xml'));
    expect(alert.identifier).toBe('2.49.0.1.704.0.20260915040000.BAO.0005');
    expect(alert.sent.toISOString()).toBe('2026-09-14T21:00:00.000Z');
    expect(alert.infos.map((info) => info.language)).toEqual(['vi-VN', 'en-US']);
    const vi = alert.infos[0]!;
    expect(vi.event).toBe('Bão');
    expect(vi.severity).toBe('Extreme');
    expect(vi.urgency).toBe('Expected');
    expect(vi.responseTypes).toEqual(['Shelter']);
    // Inside CDATA "&" is a plain character, not the start of an entity.
    expect(vi.description).toContain('giật cấp 15 & trên');
    expect(vi.areas[0]!.circles).toEqual([{ lat: 20.3, lon: 107.5, radiusKm: 150 }]);
    expect(vi.areas[0]!.polygons).toEqual([]);
    expect(alert.infos[1]!.event).toBe('Typhoon');
  });

  it('reads an alert whose areas are geocodes only', () => {
    const alert = parseCapAlert(fixtureBytes('sat-lo-yen-bai.xml'));
    const info = alert.infos[0]!;
    expect(info.categories).toEqual(['Geo', 'Met']);
    expect(info.event).toBe('Lũ quét, sạt lở đất');
    expect(info.certainty).toBe('Possible');
    const area = info.areas[0]!;
    expect(area.polygons).toEqual([]);
    expect(area.circles).toEqual([]);
    expect(area.geocodes).toEqual([
      { valueName: 'ISO3166-2', value: 'VN-06' },
      { valueName: 'MA_DVHC', value: '137' },
      { valueName: 'MA_DVHC', value: '139' },
      { valueName: 'MA_DVHC', value: '140' },
    ]);
  });

  it('reads a status=Test alert as Test', () => {
    const alert = parseCapAlert(fixtureBytes('thu-nghiem.xml'));
    expect(alert.status).toBe('Test');
    expect(alert.note).toBe('Bản tin thử nghiệm hệ thống cảnh báo, không phát thanh.');
    expect(alert.infos[0]!.areas[0]!.circles).toEqual([{ lat: 22.4856, lon: 103.9707, radiusKm: 5 }]);
  });

  it('has an Atom index whose links all lead to parseable CAP files, and is itself not an alert', () => {
    const index = fixtureText('index.atom.xml');
    const links = [...index.matchAll(/<link rel="alternate" type="application\/cap\+xml" href="([^"]+)"\/>/g)].map(
      (m) => m[1]!,
    );
    expect(links.sort()).toEqual([...GOOD].sort());
    for (const link of links) {
      const alert = parseCapAlert(fixtureBytes(link));
      expect(index).toContain(`<id>${alert.identifier}</id>`);
    }
    expect(refusal(index).reason).toMatch(/root element is <feed>/);
  });
});

describe('parseCapAlert: hostile and malformed documents', () => {
  it.each([
    ['billion-laughs.xml', 'document', /DOCTYPE declaration.*billion laughs/],
    ['xxe-passwd.xml', 'document', /DOCTYPE declaration.*XXE/],
    ['wrong-namespace.xml', 'alert', /namespace "urn:example:not-cap"/],
    ['cap-1.1.xml', 'alert', /CAP 1\.1 \(namespace urn:oasis:names:tc:emergency:cap:1\.1\)/],
    ['missing-identifier.xml', 'alert.identifier', /is missing/],
    ['polygon-not-closed.xml', 'alert.info[0].area[1].polygon[0]', /not closed/],
    ['latitude-out-of-range.xml', 'alert.info[0].area[0].polygon[0]', /point 1 has latitude 103\.8, outside -90\.\.90/],
    ['truncated.xml', 'document', /ends before alert > info > area > polygon is closed/],
  ])('refuses hostile/%s at %s', (name, path, reason) => {
    const error = refusal(fixtureBytes(`hostile/${name}`));
    expect(error.path).toBe(path);
    expect(error.reason).toMatch(reason);
    expect(error.message).toBe(`${path}: ${error.reason}`);
  });

  it('never reads the file an external entity points to', () => {
    const error = refusal(fixtureBytes('hostile/xxe-passwd.xml'));
    expect(error.message).not.toMatch(/root:|nologin/);
  });

  it.each<[string, () => string | Buffer, string, RegExp]>([
    [
      'a lowercase doctype',
      () => floodWith('<alert ', '<!doctype alert>\n<alert '),
      'document',
      /DOCTYPE declaration at line 3/,
    ],
    ['an entity no DOCTYPE declared', () => floodWith('lên &amp;', 'lên &nbsp;'), 'document', /entity "&nbsp;"/],
    ['a character reference to U+0000', () => floodWith('s&#7841;t', 's&#0;t'), 'document', /not an XML character/],
    ['a raw NUL character', () => floodWith('Lũ</event>', 'L\u0000</event>'), 'document', /U\+0000/],
    ['no namespace', () => floodWith(' xmlns="urn:oasis:names:tc:emergency:cap:1.2"', ''), 'alert', /has no namespace/],
    [
      'an undeclared prefix',
      () => floodWith('<event>Lũ</event>', '<x:event>Lũ</x:event>'),
      'document',
      /prefix "x", never declared/,
    ],
    ['a root that is not alert', () => '<feed xmlns="http://www.w3.org/2005/Atom"/>', 'document', /<feed>/],
    ['two roots', () => `${fixtureText('lu-lao-cai.xml')}<alert/>`, 'document', /well-formed|one root/],
    ['an empty document', () => '', 'document', /root element|well-formed/],
    ['only whitespace', () => '   \n', 'document', /root element|well-formed/],
    [
      'an identifier twice',
      () => floodWith('<sender>', '<identifier>again</identifier><sender>'),
      'alert.identifier',
      /appears 2 times/,
    ],
    [
      'an identifier with a space',
      () => floodWith(`<identifier>${FLOOD_ID}`, '<identifier>a b'),
      'alert.identifier',
      /space, comma/,
    ],
    [
      'sent without a time zone',
      () => floodWith('<sent>2026-10-12T07:30:00+07:00', '<sent>2026-10-12T07:30:00'),
      'alert.sent',
      /with a time zone/,
    ],
    ['sent on 30 February', () => floodWith('<sent>2026-10-12', '<sent>2026-02-30'), 'alert.sent', /not a real date/],
    ['an unknown status', () => floodWith('<status>Actual', '<status>Real'), 'alert.status', /expected one of Actual/],
    [
      'an unknown severity',
      () => floodWith('<severity>Severe', '<severity>Warning'),
      'alert.info[0].severity',
      /"Warning" is not a CAP 1\.2 severity/,
    ],
    [
      'an unknown category',
      () => floodWith('<category>Met', '<category>Flood'),
      'alert.info[0].category[0]',
      /category/,
    ],
    [
      'an info without category',
      () => floodWith('<category>Met</category>', ''),
      'alert.info[0].category',
      /at least one/,
    ],
    ['an info without event', () => floodWith('<event>Lũ</event>', ''), 'alert.info[0].event', /is missing/],
    [
      'an element inside a text element',
      () => floodWith('<event>Lũ</event>', '<event>Lũ<b>!</b></event>'),
      'alert.info[0].event',
      /text only/,
    ],
    [
      'an Update without references',
      () => floodWith('<msgType>Alert', '<msgType>Update'),
      'alert.references',
      /required for msgType Update/,
    ],
    [
      'a reference that is not a triplet',
      () => floodWith('<scope>Public</scope>', `<scope>Public</scope><references>${NCHMF},${FLOOD_ID}</references>`),
      'alert.references',
      /not "sender,identifier,sent"/,
    ],
    [
      'a polygon of three points',
      () => floodWith(/<polygon>[^<]*<\/polygon>/, '<polygon>22.6,103.8 22.6,104.0 22.6,103.8</polygon>'),
      'alert.info[0].area[0].polygon[0]',
      /has 3 points/,
    ],
    [
      'a polygon with a longitude past 180',
      () => floodWith('22.30,104.25', '22.30,190.25'),
      'alert.info[0].area[0].polygon[0]',
      /point 3 has longitude 190\.25/,
    ],
    [
      'a polygon point written as lat lon',
      () => floodWith('22.30,104.25', '22.30;104.25'),
      'alert.info[0].area[0].polygon[0]',
      /point 3 "22\.30;104\.25" is not "lat,lon"/,
    ],
    [
      'a circle without a radius',
      () => floodWith('</areaDesc>', '</areaDesc><circle>22.48,103.97</circle>'),
      'alert.info[0].area[0].circle[0]',
      /lat,lon radius_km/,
    ],
    [
      'a circle with a negative radius',
      () => floodWith('</areaDesc>', '</areaDesc><circle>22.48,103.97 -5</circle>'),
      'alert.info[0].area[0].circle[0]',
      /negative radius/,
    ],
    [
      'a circle radius in hexadecimal',
      () => floodWith('</areaDesc>', '</areaDesc><circle>22.48,103.97 0x10</circle>'),
      'alert.info[0].area[0].circle[0]',
      /not a decimal/,
    ],
    [
      'a geocode without value',
      () => floodWith('<value>VN-02</value>', ''),
      'alert.info[0].area[0].geocode[0].value',
      /is missing/,
    ],
    [
      'an area without areaDesc',
      () => floodWith(/<areaDesc>[^<]*<\/areaDesc>/, ''),
      'alert.info[0].area[0].areaDesc',
      /missing/,
    ],
    [
      'a web link that is not absolute',
      () => floodWith('https://nchmf.gov.vn/canh-bao/lu', 'canh-bao/lu'),
      'alert.info[0].web',
      /absolute URI/,
    ],
    [
      'scope Private without addresses',
      () => floodWith('<scope>Public', '<scope>Private'),
      'alert.addresses',
      /required when scope is Private/,
    ],
    ['an element named __proto__', () => floodWith('<scope>', '<__proto__/><scope>'), 'document', /.+/],
    [
      'an element named constructor',
      () => floodWith('<scope>', '<constructor>x</constructor><scope>'),
      'document',
      /.+/,
    ],
    [
      'bytes that are not UTF-8',
      () =>
        Buffer.concat([
          fixtureBytes('lu-lao-cai.xml').subarray(0, 400),
          Buffer.from([0xc3, 0x28]),
          fixtureBytes('lu-lao-cai.xml').subarray(400),
        ]),
      'document',
      /not valid UTF-8/,
    ],
    [
      'a declared Latin-1 encoding',
      () => Buffer.from(floodWith('encoding="UTF-8"', 'encoding="ISO-8859-1"'), 'utf8'),
      'document',
      /encoding "ISO-8859-1"/,
    ],
    ['UTF-16 bytes', () => Buffer.from(`\ufeff${fixtureText('lu-lao-cai.xml')}`, 'utf16le'), 'document', /UTF-16/],
    [
      'elements nested 100 000 deep',
      () => floodWith('<scope>', `${'<n>'.repeat(100_000)}${'</n>'.repeat(100_000)}<scope>`),
      'document',
      /.+/,
    ],
  ])('refuses %s', (_what, make, path, reason) => {
    const error = refusal(make());
    expect(error.path).toBe(path);
    expect(error.reason).toMatch(reason);
  });

  it('refuses input that is neither text nor bytes with a CapError', () => {
    for (const input of [undefined, null, 42, {}, ['<alert/>']]) {
      expect(refusal(input as unknown as string).path).toBe('document');
    }
  });
});

describe('parseCapAlert: size limit', () => {
  /** A well-formed CAP alert of more than `bytes` bytes: one very long Vietnamese description. */
  function hugeAlert(bytes: number): string {
    const sentence = 'Mưa lớn kéo dài gây lũ trên các sông suối nhỏ. ';
    const repeat = Math.ceil(bytes / Buffer.byteLength(sentence)) + 1;
    return floodWith(/<description>[^<]*<\/description>/, `<description>${sentence.repeat(repeat)}</description>`);
  }

  it('refuses a 10 MB document before parsing it, as text and as bytes', () => {
    const text = hugeAlert(10 * 1024 * 1024);
    const bytes = Buffer.from(text, 'utf8');
    expect(bytes.byteLength).toBeGreaterThan(10 * 1024 * 1024);
    for (const input of [text, bytes]) {
      const started = performance.now();
      const error = refusal(input);
      // Parsing 10 MB would take far longer than reading its length.
      expect(performance.now() - started).toBeLessThan(200);
      expect(error.path).toBe('document');
      expect(error.reason).toMatch(new RegExp(`over the limit of ${DEFAULT_MAX_CAP_BYTES} bytes`));
    }
  });

  it('accepts a document just under the limit', () => {
    const text = hugeAlert(DEFAULT_MAX_CAP_BYTES - 20_000);
    expect(Buffer.byteLength(text)).toBeLessThan(DEFAULT_MAX_CAP_BYTES);
    expect(parseCapAlert(text).infos[0]!.description).toMatch(/^Mưa lớn/);
  });

  it('counts the limit in UTF-8 bytes, not characters', () => {
    const text = fixtureText('lu-lao-cai.xml');
    const bytes = Buffer.byteLength(text);
    // Vietnamese letters take two or three bytes each, so the file has far fewer characters than bytes.
    expect(text.length).toBeLessThan(bytes);
    expect(refusal(text, { maxBytes: text.length }).reason).toMatch(`is ${bytes} bytes`);
    expect(refusal(Buffer.from(text), { maxBytes: bytes - 1 }).path).toBe('document');
    expect(parseCapAlert(text, { maxBytes: bytes }).identifier).toBe(FLOOD_ID);
  });
});

// ---------------------------------------------------------------------------
// Fuzz

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mutation = (input: Buffer, random: () => number) => Buffer;

const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)]!;
const spliceText = (text: string, at: number, remove: number, insert: string): string =>
  text.slice(0, at) + insert + text.slice(at + remove);

/** Every element span, leaf or not: `<tag ...>…</tag>` with the same name, shortest match. */
function elementSpans(text: string): { start: number; end: number; name: string }[] {
  const spans: { start: number; end: number; name: string }[] = [];
  for (const open of text.matchAll(/<([A-Za-z][\w:.-]*)(\s[^>]*)?>/g)) {
    const name = open[1]!;
    const close = text.indexOf(`</${name}>`, open.index);
    if (close !== -1) spans.push({ start: open.index, end: close + name.length + 3, name });
  }
  return spans;
}

const SNIPPETS = [
  '&',
  '<',
  '>',
  '&amp;',
  '&lt;',
  '&#x1EA1;',
  '&#0;',
  '&#xD800;',
  '&bogus;',
  ']]>',
  '<![CDATA[x]]>',
  '<!DOCTYPE a>',
  '<!ENTITY x "y">',
  '<?pi x?>',
  '<!-- c -->',
  '"',
  "'",
  '\u0000',
  '\uFFFF',
  'ạ',
  ' ',
  ',',
  '-',
  '9',
  '.',
  '<info>',
  '</info>',
  '<area><areaDesc>x</areaDesc></area>',
  '<polygon>1,1 2,2 3,3 1,1</polygon>',
  '<circle>1,1 -1</circle>',
  '<x:y xmlns:x="urn:x">z</x:y>',
  '<z:q>',
  'xmlns="urn:oasis:names:tc:emergency:cap:1.1"',
];

const MUTATIONS: Mutation[] = [
  // Truncate anywhere, including inside a multi-byte letter.
  (input, random) => input.subarray(0, Math.floor(random() * input.length)),
  // Flip a few bytes.
  (input, random) => {
    const out = Buffer.from(input);
    const flips = 1 + Math.floor(random() * 4);
    for (let i = 0; i < flips; i++) out[Math.floor(random() * out.length)]! ^= 1 << Math.floor(random() * 8);
    return out;
  },
  // Overwrite a byte with a random one.
  (input, random) => {
    const out = Buffer.from(input);
    out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
    return out;
  },
  // Duplicate an element.
  (input, random) => {
    const text = input.toString('utf8');
    const spans = elementSpans(text);
    if (spans.length === 0) return input;
    const span = pick(spans, random);
    return Buffer.from(spliceText(text, span.end, 0, text.slice(span.start, span.end)));
  },
  // Remove an element.
  (input, random) => {
    const text = input.toString('utf8');
    const spans = elementSpans(text);
    if (spans.length === 0) return input;
    const span = pick(spans, random);
    return Buffer.from(spliceText(text, span.start, span.end - span.start, ''));
  },
  // Nest an element inside another (or itself), a few levels deep.
  (input, random) => {
    const text = input.toString('utf8');
    const spans = elementSpans(text);
    if (spans.length < 2) return input;
    const outer = pick(spans, random);
    const inner = pick(spans, random);
    const depth = 1 + Math.floor(random() * 40);
    const wrapped =
      `<${outer.name}>`.repeat(depth) + text.slice(inner.start, inner.end) + `</${outer.name}>`.repeat(depth);
    return Buffer.from(spliceText(text, inner.start, inner.end - inner.start, wrapped));
  },
  // Move an element's text into another element (a polygon into a circle, a date into severity...).
  (input, random) => {
    const text = input.toString('utf8');
    const leaves = [...text.matchAll(/<([\w:]+)>([^<]*)<\/\1>/g)];
    if (leaves.length < 2) return input;
    const from = pick(leaves, random);
    const to = pick(leaves, random);
    const replacement = `<${to[1]}>${from[2]}</${to[1]}>`;
    return Buffer.from(spliceText(text, to.index, to[0].length, replacement));
  },
  // Insert a snippet of XML syntax or text anywhere.
  (input, random) => {
    const text = input.toString('utf8');
    return Buffer.from(spliceText(text, Math.floor(random() * (text.length + 1)), 0, pick(SNIPPETS, random)));
  },
  // Change a digit: coordinates, dates and radii go out of range or stop being numbers.
  (input, random) => {
    const text = input.toString('utf8');
    const digits = [...text.matchAll(/\d/g)];
    if (digits.length === 0) return input;
    const at = pick(digits, random).index;
    return Buffer.from(spliceText(text, at, 1, pick(['0', '9', '-', '', '.', ',', ' ', 'e'], random)));
  },
];

/** What a returned alert must satisfy whatever the input was. */
function expectValidAlert(alert: CapAlert): void {
  expect(alert.identifier).toMatch(/^[^\s,<&]+$/);
  expect(alert.sender).toMatch(/^[^\s,<&]+$/);
  expect(Number.isNaN(alert.sent.getTime())).toBe(false);
  expect(CAP_STATUSES).toContain(alert.status);
  expect(CAP_MSG_TYPES).toContain(alert.msgType);
  expect(CAP_SCOPES).toContain(alert.scope);
  if (alert.msgType !== 'Alert') expect(alert.references.length).toBeGreaterThan(0);
  for (const reference of alert.references) expect(Number.isNaN(reference.sent.getTime())).toBe(false);
  for (const info of alert.infos) {
    expect(info.categories.length).toBeGreaterThan(0);
    for (const category of info.categories) expect(CAP_CATEGORIES).toContain(category);
    expect(CAP_URGENCIES).toContain(info.urgency);
    expect(CAP_SEVERITIES).toContain(info.severity);
    expect(CAP_CERTAINTIES).toContain(info.certainty);
    expect(info.event).not.toBe('');
    for (const date of [info.effective, info.onset, info.expires]) {
      if (date) expect(Number.isNaN(date.getTime())).toBe(false);
    }
    for (const area of info.areas) {
      expect(area.areaDesc).not.toBe('');
      for (const polygon of area.polygons) {
        expect(polygon.length).toBeGreaterThanOrEqual(4);
        expect(polygon[0]).toEqual(polygon[polygon.length - 1]);
        for (const [lat, lon] of polygon) {
          expect(Math.abs(lat)).toBeLessThanOrEqual(90);
          expect(Math.abs(lon)).toBeLessThanOrEqual(180);
        }
      }
      for (const circle of area.circles) {
        expect(Math.abs(circle.lat)).toBeLessThanOrEqual(90);
        expect(Math.abs(circle.lon)).toBeLessThanOrEqual(180);
        expect(circle.radiusKm).toBeGreaterThanOrEqual(0);
        expect(Number.isFinite(circle.radiusKm)).toBe(true);
      }
      for (const geocode of area.geocodes) expect(geocode.value).not.toBe('');
    }
  }
}

describe('parseCapAlert: fuzz', () => {
  it('returns a valid alert or throws CapError for thousands of mutated fixtures', { timeout: 60_000 }, () => {
    const seed = 20_261_012;
    const random = seededRandom(seed);
    const originals = GOOD.map(fixtureBytes);
    const iterations = 4000;
    let accepted = 0;
    const refusedAt = new Map<string, number>();
    const started = performance.now();
    let slowestMs = 0;

    for (let i = 0; i < iterations; i++) {
      let input = pick(originals, random);
      const steps = 1 + Math.floor(random() * 3);
      for (let s = 0; s < steps; s++) input = pick(MUTATIONS, random)(input, random);
      const asText = random() < 0.5;

      const before = performance.now();
      let result: CapAlert | undefined;
      try {
        result = parseCapAlert(asText ? input.toString('utf8') : input);
      } catch (error) {
        if (!(error instanceof CapError)) {
          throw new Error(
            `iteration ${i} (seed ${seed}) threw ${String(error)} for input ${JSON.stringify(input.toString('utf8').slice(0, 2000))}`,
          );
        }
        expect(error.path).not.toBe('');
        expect(error.reason).not.toBe('');
        const top = error.path.split(/[.[]/)[0]!;
        refusedAt.set(top, (refusedAt.get(top) ?? 0) + 1);
      }
      slowestMs = Math.max(slowestMs, performance.now() - before);
      if (result) {
        expectValidAlert(result);
        accepted++;
      }
    }

    const totalMs = performance.now() - started;
    // Both outcomes happen: mutations that keep an alert valid, and refusals at both levels.
    expect(accepted).toBeGreaterThan(iterations * 0.05);
    expect(refusedAt.get('document') ?? 0).toBeGreaterThan(iterations * 0.05);
    expect(refusedAt.get('alert') ?? 0).toBeGreaterThan(iterations * 0.05);
    expect(slowestMs).toBeLessThan(500);
    expect(totalMs).toBeLessThan(15_000);
  });
});
