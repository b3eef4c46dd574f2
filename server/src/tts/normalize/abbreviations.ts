/**
 * Abbreviations common in commune notices. Keys without lower-case letters (acronyms such as "UBND", "CA",
 * "GD&ĐT") match case-sensitively; keys with lower-case letters ("Covid-19", "TTg") match in any case.
 * Expansions are written in lower case: they are what the loudspeaker says, not what a reader sees.
 */
export const DEFAULT_ABBREVIATIONS: Readonly<Record<string, string>> = Object.freeze({
  // Government and mass organisations
  UBND: 'ủy ban nhân dân',
  HĐND: 'hội đồng nhân dân',
  MTTQ: 'mặt trận tổ quốc',
  MTTQVN: 'mặt trận tổ quốc việt nam',
  UBMTTQ: 'ủy ban mặt trận tổ quốc',
  UBMTTQVN: 'ủy ban mặt trận tổ quốc việt nam',
  UBKT: 'ủy ban kiểm tra',
  BCH: 'ban chỉ huy',
  BCHQS: 'ban chỉ huy quân sự',
  BCĐ: 'ban chỉ đạo',
  BQL: 'ban quản lý',
  BTV: 'ban thường vụ',
  ĐBQH: 'đại biểu quốc hội',
  TW: 'trung ương',
  TƯ: 'trung ương',
  HND: 'hội nông dân',
  HLHPN: 'hội liên hiệp phụ nữ',
  LHPN: 'liên hiệp phụ nữ',
  HCCB: 'hội cựu chiến binh',
  CCB: 'cựu chiến binh',
  TNCS: 'thanh niên cộng sản',
  HTX: 'hợp tác xã',
  CA: 'công an',
  CSGT: 'cảnh sát giao thông',
  DQTV: 'dân quân tự vệ',
  NVQS: 'nghĩa vụ quân sự',
  // Places
  TP: 'thành phố',
  'TP.': 'thành phố',
  'TP.HCM': 'thành phố hồ chí minh',
  TPHCM: 'thành phố hồ chí minh',
  HCM: 'hồ chí minh',
  TT: 'thị trấn',
  // Documents
  QĐ: 'quyết định',
  NĐ: 'nghị định',
  NQ: 'nghị quyết',
  'NĐ-CP': 'nghị định chính phủ',
  TTg: 'thủ tướng',
  // Sectors and programmes
  'GD&ĐT': 'giáo dục và đào tạo',
  GDĐT: 'giáo dục và đào tạo',
  'GD-ĐT': 'giáo dục và đào tạo',
  'NN&PTNT': 'nông nghiệp và phát triển nông thôn',
  'NN-PTNT': 'nông nghiệp và phát triển nông thôn',
  'TN&MT': 'tài nguyên và môi trường',
  TNMT: 'tài nguyên và môi trường',
  PTNT: 'phát triển nông thôn',
  'LĐ-TB&XH': 'lao động thương binh và xã hội',
  LĐTBXH: 'lao động thương binh và xã hội',
  'VH-TT': 'văn hóa thông tin',
  'KT-XH': 'kinh tế xã hội',
  'CT-XH': 'chính trị xã hội',
  'QP-AN': 'quốc phòng an ninh',
  ANTT: 'an ninh trật tự',
  TDTT: 'thể dục thể thao',
  NTM: 'nông thôn mới',
  KHHGĐ: 'kế hoạch hóa gia đình',
  BHYT: 'bảo hiểm y tế',
  BHXH: 'bảo hiểm xã hội',
  BHTN: 'bảo hiểm thất nghiệp',
  KCB: 'khám chữa bệnh',
  TYT: 'trạm y tế',
  TTYT: 'trung tâm y tế',
  THCS: 'trung học cơ sở',
  THPT: 'trung học phổ thông',
  PCCC: 'phòng cháy chữa cháy',
  CNCH: 'cứu nạn cứu hộ',
  'PCCC&CNCH': 'phòng cháy chữa cháy và cứu nạn cứu hộ',
  PCTT: 'phòng chống thiên tai',
  TKCN: 'tìm kiếm cứu nạn',
  'PCTT&TKCN': 'phòng chống thiên tai và tìm kiếm cứu nạn',
  PCLB: 'phòng chống lụt bão',
  ATTP: 'an toàn thực phẩm',
  VSATTP: 'vệ sinh an toàn thực phẩm',
  ATGT: 'an toàn giao thông',
  VSMT: 'vệ sinh môi trường',
  BVTV: 'bảo vệ thực vật',
  GPMB: 'giải phóng mặt bằng',
  QSDĐ: 'quyền sử dụng đất',
  GCN: 'giấy chứng nhận',
  GCNQSDĐ: 'giấy chứng nhận quyền sử dụng đất',
  ĐKKD: 'đăng ký kinh doanh',
  TNHH: 'trách nhiệm hữu hạn',
  // Papers and forms
  'V/v': 'về việc',
  CCCD: 'căn cước công dân',
  CMND: 'chứng minh nhân dân',
  SĐT: 'số điện thoại',
  STT: 'số thứ tự',
  ĐVT: 'đơn vị tính',
  // Money and health
  VNĐ: 'đồng',
  VND: 'đồng',
  USD: 'đô la mỹ',
  'Covid-19': 'cô vít mười chín',
  Covid: 'cô vít',
});

/**
 * Parts of document codes ("123/QĐ-UBND", "12/2020/TT-BYT"), used only inside such a code or a hyphenated chain
 * of acronyms, where they are unambiguous; standing alone "TT", "KH" or "CP" mean too many things.
 */
export const DOCUMENT_CODE_ABBREVIATIONS: Readonly<Record<string, string>> = Object.freeze({
  TT: 'thông tư',
  CP: 'chính phủ',
  KH: 'kế hoạch',
  TB: 'thông báo',
  CV: 'công văn',
  BC: 'báo cáo',
  CT: 'chỉ thị',
  HD: 'hướng dẫn',
  TTr: 'tờ trình',
  VP: 'văn phòng',
  BYT: 'bộ y tế',
  BTC: 'bộ tài chính',
  BCA: 'bộ công an',
  BQP: 'bộ quốc phòng',
  BNV: 'bộ nội vụ',
  BTNMT: 'bộ tài nguyên và môi trường',
  BGDĐT: 'bộ giáo dục và đào tạo',
  BLĐTBXH: 'bộ lao động thương binh và xã hội',
  BNNPTNT: 'bộ nông nghiệp và phát triển nông thôn',
});

/**
 * Default entries that stand alone only in a telling context. "TT" is "thị trấn" before a place name
 * ("TT Đông Anh") and left as written otherwise. A commune's own entry for the key lifts the guard.
 */
const STANDALONE_GUARDS: Readonly<Record<string, RegExp>> = { TT: /^\s+\p{Lu}/u };

/** A sentence that ends on "TP." keeps its full stop; before a name ("TP. Huế") the dot belongs to the acronym. */
const BEFORE_NAME = /^\s*\p{Lu}/u;

export interface AbbreviationExpander {
  /** Expands whole-word dictionary entries and hyphenated chains of them ("QĐ-UBND") in free text. */
  expandText(text: string): string;
  /** Reads a document code such as "QĐ-UBND" part by part; unknown parts stay as written. */
  expandCode(code: string): string;
}

class Layer {
  private readonly exact = new Map<string, string>();
  private readonly folded = new Map<string, string>();

  constructor(readonly entries: Readonly<Record<string, string>>) {
    for (const [key, expansion] of Object.entries(entries)) {
      if (matchesCaseSensitively(key)) this.exact.set(key, expansion);
      else this.folded.set(key.toLowerCase(), expansion);
    }
  }

  get(written: string): string | undefined {
    return this.exact.get(written) ?? this.folded.get(written.toLowerCase());
  }
}

function matchesCaseSensitively(key: string): boolean {
  return key === key.toUpperCase();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function keyPattern(key: string): string {
  if (matchesCaseSensitively(key)) return escapeRegExp(key);
  let pattern = '';
  for (const char of key) {
    const lower = char.toLowerCase();
    const upper = char.toUpperCase();
    pattern += lower === upper ? escapeRegExp(char) : `[${lower}${upper}]`;
  }
  return pattern;
}

function alternation(keys: Iterable<string>): string {
  const sorted = [...new Set(keys)].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
  return sorted.map(keyPattern).join('|');
}

function compile(custom: Readonly<Record<string, string>>): AbbreviationExpander {
  const user = new Layer(custom);
  const defaults = new Layer(DEFAULT_ABBREVIATIONS);
  const codes = new Layer(DOCUMENT_CODE_ABBREVIATIONS);
  const keys = alternation([
    ...Object.keys(custom),
    ...Object.keys(DEFAULT_ABBREVIATIONS),
    ...Object.keys(DOCUMENT_CODE_ABBREVIATIONS),
  ]);
  if (keys === '') return { expandText: (text) => text, expandCode: (code) => code };
  const chain = new RegExp(`(?<![\\p{L}\\p{N}])(?:${keys})(?:-(?:${keys}))*(?![\\p{L}\\p{N}])`, 'gu');
  const part = new RegExp(`(?:${keys})(?=-|$)`, 'uy');

  const inCode = (written: string): string | undefined =>
    user.get(written) ?? codes.get(written) ?? defaults.get(written);

  const standalone = (written: string, after: string): string | undefined => {
    const own = user.get(written);
    if (own !== undefined) return own;
    const expansion = defaults.get(written);
    const guard = STANDALONE_GUARDS[written];
    if (expansion === undefined || (guard && !guard.test(after))) return undefined;
    return written.endsWith('.') && !BEFORE_NAME.test(after) ? `${expansion}.` : expansion;
  };

  /** Splits "QĐ-UBND" into its dictionary parts, preferring the longest ("NĐ-CP" stays one part). */
  const split = (code: string): string[] => {
    const parts: string[] = [];
    let at = 0;
    while (at < code.length) {
      part.lastIndex = at;
      const found = part.exec(code)?.[0];
      const end = found ? at + found.length : code.indexOf('-', at) === -1 ? code.length : code.indexOf('-', at);
      parts.push(code.slice(at, end));
      at = end + 1;
    }
    return parts.filter((p) => p !== '');
  };

  const expandCode = (code: string): string =>
    split(code)
      .map((p) => inCode(p) ?? p)
      .join(' ');

  return {
    expandCode,
    expandText: (text) =>
      text.replace(chain, (match: string, offset: number, whole: string) => {
        const parts = split(match);
        if (parts.length !== 1) return expandCode(match);
        return standalone(match, whole.slice(offset + match.length)) ?? match;
      }),
  };
}

const NO_CUSTOM: Readonly<Record<string, string>> = Object.freeze({});
const compiled = new WeakMap<object, { signature: string; expander: AbbreviationExpander }>();

/**
 * The expander for a commune's own dictionary (its entries win over the defaults). Compiled once per dictionary
 * object, and again only if that object's entries change.
 */
export function abbreviationExpander(custom: Readonly<Record<string, string>> = NO_CUSTOM): AbbreviationExpander {
  const signature = JSON.stringify(Object.entries(custom));
  const cached = compiled.get(custom);
  if (cached && cached.signature === signature) return cached.expander;
  const expander = compile(custom);
  compiled.set(custom, { signature, expander });
  return expander;
}
