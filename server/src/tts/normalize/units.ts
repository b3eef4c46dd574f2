import { NUMERAL, NUMERAL_START } from './patterns';

/**
 * Units, currency and percent after a number: "500.000đ" → "500.000 đồng", "15%" → "15 phần trăm",
 * "20.000đ/kg" → "20.000 đồng một ki lô gam". The number stays in digits for the ranges and number rules.
 * Foreign syllables are spelled the way Vietnamese engines pronounce them ("ki lô mét", "héc ta").
 */
const UNIT_WORDS: Readonly<Record<string, string>> = {
  'km/h': 'ki lô mét trên giờ',
  'km/giờ': 'ki lô mét trên giờ',
  'm/s': 'mét trên giây',
  km2: 'ki lô mét vuông',
  'km²': 'ki lô mét vuông',
  m2: 'mét vuông',
  'm²': 'mét vuông',
  m3: 'mét khối',
  'm³': 'mét khối',
  cm2: 'xen ti mét vuông',
  'cm²': 'xen ti mét vuông',
  ha: 'héc ta',
  km: 'ki lô mét',
  Km: 'ki lô mét',
  KM: 'ki lô mét',
  kg: 'ki lô gam',
  Kg: 'ki lô gam',
  KG: 'ki lô gam',
  mg: 'mi li gam',
  g: 'gam',
  mm: 'mi li mét',
  cm: 'xen ti mét',
  m: 'mét',
  ml: 'mi li lít',
  l: 'lít',
  L: 'lít',
  '°C': 'độ xê',
  ºC: 'độ xê',
  oC: 'độ xê',
  'độ C': 'độ xê',
  '°': 'độ',
  '%': 'phần trăm',
  kWh: 'ki lô oát giờ',
  kW: 'ki lô oát',
  W: 'oát',
  MWh: 'mê ga oát giờ',
  MW: 'mê ga oát',
  kVA: 'ki lô vôn am pe',
  kV: 'ki lô vôn',
  V: 'vôn',
  Hz: 'héc',
  đ: 'đồng',
  Đ: 'đồng',
  đồng: 'đồng',
  VNĐ: 'đồng',
  VND: 'đồng',
  vnđ: 'đồng',
  // Already words, listed so a rate after them is read: "6,2 tấn/ha" → "tấn một héc ta".
  tấn: 'tấn',
  tạ: 'tạ',
  yến: 'yến',
  lít: 'lít',
  mét: 'mét',
  gam: 'gam',
  k: 'nghìn',
  tr: 'triệu',
};

const UNIT = Object.keys(UNIT_WORDS)
  .sort((a, b) => b.length - a.length || (a < b ? -1 : 1))
  .map((unit) => unit.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
  .join('|');

/** "/kg", "/ người", "/người/tháng": what a price or rate is per. */
const PER = String.raw`((?:\s?\/\s?(?:${UNIT}|\p{L}+))*)`;

/** A measure, with the first number of a range before it: "1.5-2 kg" reads both numbers the way the unit wants. */
const MEASURE = new RegExp(
  String.raw`${NUMERAL_START}(?:(${NUMERAL})(\s*[-–—]\s*))?(${NUMERAL})\s?(${UNIT})${PER}(?![\p{L}\p{N}])`,
  'gu',
);

/**
 * A whole unit and what is left of it, as written in everyday notices: "2m5" → "2 mét rưỡi", "1m70" → "1 mét 70",
 * "2tr5" → "2 triệu rưỡi", "3k5" → "3 nghìn rưỡi". A lone 5 is "rưỡi" (a half). Read after the measures, so
 * "5m3" and "1m2" stay cubic and square metres.
 */
const COMPOUND = new RegExp(
  String.raw`${NUMERAL_START}(\d+)(?:(m)(\d{1,2})|(tr|k)(\d))(?![\p{L}\p{N}]|[.,]\p{N})`,
  'gu',
);
const COMPOUND_UNITS: Readonly<Record<string, string>> = { m: 'mét', tr: 'triệu', k: 'nghìn' };

function compoundRest(rest: string): string {
  if (rest === '5') return 'rưỡi';
  // "1m05" is a metre and five centimetres: "một mét linh năm".
  return rest.length === 2 && rest.startsWith('0') ? `linh ${rest.slice(1)}` : rest;
}

/** "2 triệu đ", "3 triệu đồng/tháng", "50 nghìn/người": currency or rate after a spelled-out scale. */
const SCALED = new RegExp(
  String.raw`(?<![\p{L}\p{N}])(nghìn|ngàn|triệu|tỷ|tỉ)(?:\s?(đồng|đ|VNĐ|VND))?${PER}(?![\p{L}\p{N}])`,
  'gu',
);

function unitWords(unit: string): string {
  return UNIT_WORDS[unit] ?? unit;
}

function per(tail: string): string {
  return tail
    .split('/')
    .map((unit) => unit.trim())
    .filter((unit) => unit !== '')
    .map((unit) => ` một ${unitWords(unit)}`)
    .join('');
}

/** Before a unit, "1.5" and "0.25" are decimals written the English way; "1.500" stays fifteen hundred. */
function decimalComma(numeral: string): string {
  const parts = /^(\d+)\.(\d+)$/.exec(numeral);
  if (!parts || (parts[2]?.length === 3 && parts[1] !== '0')) return numeral;
  return `${parts[1]},${parts[2]}`;
}

export function readUnits(text: string): string {
  return text
    .replace(
      MEASURE,
      (_match, from: string | undefined, dash: string | undefined, numeral: string, unit: string, perUnit: string) =>
        `${from === undefined ? '' : `${decimalComma(from)}${dash}`}${decimalComma(numeral)} ${unitWords(unit)}${per(perUnit)}`,
    )
    .replace(
      COMPOUND,
      (_match, whole: string, metre: string | undefined, metreRest: string | undefined, scale: string, rest: string) =>
        `${whole} ${COMPOUND_UNITS[metre ?? scale]} ${compoundRest(metreRest ?? rest)}`,
    )
    .replace(SCALED, (match, scale: string, currency: string | undefined, perUnit: string) =>
      currency === undefined && perUnit === '' ? match : `${scale}${currency ? ' đồng' : ''}${per(perUnit)}`,
    );
}
