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
  CHQS: 'chỉ huy quân sự',
  LLVT: 'lực lượng vũ trang',
  ĐU: 'đảng ủy',
  ĐTN: 'đoàn thanh niên',
  CTĐ: 'chữ thập đỏ',
  NCT: 'người cao tuổi',
  CLB: 'câu lạc bộ',
  CBCC: 'cán bộ công chức',
  CBCCVC: 'cán bộ công chức viên chức',
  NHCSXH: 'ngân hàng chính sách xã hội',
  CSXH: 'chính sách xã hội',
  // Places. The dotted prefixes and "TT", "KP" are read only before a place name (see STANDALONE_GUARDS).
  TP: 'thành phố',
  'TP.': 'thành phố',
  'Tp.': 'thành phố',
  'TP.HCM': 'thành phố hồ chí minh',
  TPHCM: 'thành phố hồ chí minh',
  HCM: 'hồ chí minh',
  TT: 'thị trấn',
  'TT.': 'thị trấn',
  'TX.': 'thị xã',
  'P.': 'phường',
  'Q.': 'quận',
  'X.': 'xã',
  'H.': 'huyện',
  TDP: 'tổ dân phố',
  KP: 'khu phố',
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
  MN: 'mầm non',
  TH: 'tiểu học',
  'TH&THCS': 'tiểu học và trung học cơ sở',
  THCS: 'trung học cơ sở',
  THPT: 'trung học phổ thông',
  PCCC: 'phòng cháy chữa cháy',
  CNCH: 'cứu nạn cứu hộ',
  'PCCC&CNCH': 'phòng cháy chữa cháy và cứu nạn cứu hộ',
  PCTT: 'phòng chống thiên tai',
  TKCN: 'tìm kiếm cứu nạn',
  'PCTT&TKCN': 'phòng chống thiên tai và tìm kiếm cứu nạn',
  'PCTT-TKCN': 'phòng chống thiên tai và tìm kiếm cứu nạn',
  PCCCR: 'phòng cháy chữa cháy rừng',
  PCLB: 'phòng chống lụt bão',
  ATTP: 'an toàn thực phẩm',
  VSATTP: 'vệ sinh an toàn thực phẩm',
  ATVSTP: 'an toàn vệ sinh thực phẩm',
  ATGT: 'an toàn giao thông',
  TTATGT: 'trật tự an toàn giao thông',
  VSMT: 'vệ sinh môi trường',
  BVTV: 'bảo vệ thực vật',
  GPMB: 'giải phóng mặt bằng',
  QSDĐ: 'quyền sử dụng đất',
  GCN: 'giấy chứng nhận',
  GCNQSDĐ: 'giấy chứng nhận quyền sử dụng đất',
  ĐKKD: 'đăng ký kinh doanh',
  TNHH: 'trách nhiệm hữu hạn',
  SXKD: 'sản xuất kinh doanh',
  XKLĐ: 'xuất khẩu lao động',
  NLĐ: 'người lao động',
  DTTS: 'dân tộc thiểu số',
  ĐBKK: 'đặc biệt khó khăn',
  GĐVH: 'gia đình văn hóa',
  BĐKH: 'biến đổi khí hậu',
  CNTT: 'công nghệ thông tin',
  CĐS: 'chuyển đổi số',
  NSNN: 'ngân sách nhà nước',
  TNCN: 'thu nhập cá nhân',
  // Papers, forms and public services. Names said letter by letter ("VNeID", "ATM", "QR") are left to the engine.
  'V/v': 'về việc',
  CCCD: 'căn cước công dân',
  CMND: 'chứng minh nhân dân',
  TTHC: 'thủ tục hành chính',
  DVC: 'dịch vụ công',
  DVCTT: 'dịch vụ công trực tuyến',
  GPLX: 'giấy phép lái xe',
  GPXD: 'giấy phép xây dựng',
  HĐLĐ: 'hợp đồng lao động',
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
  BTTTT: 'bộ thông tin và truyền thông',
  BTP: 'bộ tư pháp',
  BXD: 'bộ xây dựng',
  BCT: 'bộ công thương',
  BGTVT: 'bộ giao thông vận tải',
  BKHĐT: 'bộ kế hoạch và đầu tư',
  BVHTTDL: 'bộ văn hóa thể thao và du lịch',
});

/** Whether a default entry standing alone is meant here, from the text before it and the text after it. */
type Guard = (before: string, after: string) => boolean;

/** A place name follows: "TT Đông Anh", "P. Bến Thành", "TP.Huế". */
const PLACE_NAME_NEXT = /^\s*\p{Lu}/u;
/** …or a ward or district number: "P.5", "Q. 10" ("P.201" is a room and stays as written). */
const PLACE_NAME_OR_NUMBER_NEXT = /^\s*(?:\p{Lu}|\d{1,2}(?!\p{N}|[.,]\p{N}))/u;
/**
 * After these words one capital with a dot is a Roman numeral or a label, not a place: "Khóa X.", "Đại hội X.",
 * "lần thứ X.", "Phụ lục H.", "phân khu P.".
 */
const LABEL_BEFORE =
  /(?<!\p{L})(?:quý|khóa|khoá|hội|kỷ|kỉ|thứ|họp|chương|phần|mục|điều|đợt|đoạn|cấp|hạng|loại|lớp|phòng|tầng|khu|dãy|nhà|số|tổ|đội|hàng|mẫu|bảng|hình|lục|vitamin)\s*$/iu;
/** "Trường MN Hoa Sen", "bậc TH", "cấp học MN, TH và THCS": a school level, not "miền Nam" or "trường hợp". */
const SCHOOL_BEFORE =
  /(?<!\p{L})(?:trường|bậc|cấp|học|khối|hệ|giáo viên|học sinh|trẻ|MN|TH|THCS|THPT|mầm non|tiểu học)\s*(?:[,;&-]\s*|và\s+)?$/iu;
const SCHOOL_NEXT = /^\s*(?:[,;&-]|và(?!\p{L}))\s*(?:MN|TH|THCS|THPT)(?![\p{L}\p{N}])/u;

const placePrefix: Guard = (before, after) => PLACE_NAME_NEXT.test(after) && !LABEL_BEFORE.test(before);
const wardOrDistrict: Guard = (before, after) => PLACE_NAME_OR_NUMBER_NEXT.test(after) && !LABEL_BEFORE.test(before);
const schoolLevel: Guard = (before, after) => SCHOOL_BEFORE.test(before) || SCHOOL_NEXT.test(after);

/**
 * Default entries that stand alone only in a telling context. "TT" is "thị trấn" before a place name
 * ("TT Đông Anh") and left as written otherwise; the one-letter prefixes "P.", "Q.", "X.", "H." are places only
 * before a name (or a ward or district number) and not after a word that takes a Roman numeral or a label;
 * "KP" is "khu phố" before a name or a number (elsewhere it may be "kinh phí"); "MN" and "TH" are school levels
 * only next to a school word. A commune's own entry for the key lifts the guard.
 */
const STANDALONE_GUARDS: Readonly<Record<string, Guard>> = {
  TT: (_before, after) => /^\s+\p{Lu}/u.test(after),
  'TT.': placePrefix,
  'TX.': placePrefix,
  'X.': placePrefix,
  'H.': placePrefix,
  'P.': wardOrDistrict,
  'Q.': wardOrDistrict,
  KP: (_before, after) => /^\s*(?:\d|số(?!\p{L})|\p{Lu})/u.test(after),
  MN: schoolLevel,
  TH: schoolLevel,
};

/** A sentence that ends on "TP." keeps its full stop; before a name ("TP. Huế", "P.5") the dot belongs to the acronym. */
const BEFORE_NAME = /^\s*[\p{Lu}\p{N}]/u;

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
  // A key that ends in a dot ("TP.", "P.") ends there, even when the name is glued to it ("TP.Huế", "P.5").
  const chain = new RegExp(`(?<![\\p{L}\\p{N}])(?:${keys})(?:-(?:${keys}))*(?:(?<=\\.)|(?![\\p{L}\\p{N}]))`, 'gu');
  const part = new RegExp(`(?:${keys})(?=-|$)`, 'uy');

  const inCode = (written: string): string | undefined =>
    user.get(written) ?? codes.get(written) ?? defaults.get(written);

  const standalone = (written: string, before: string, after: string): string | undefined => {
    const own = user.get(written);
    if (own !== undefined) return own;
    const expansion = defaults.get(written);
    const guard = STANDALONE_GUARDS[written];
    if (expansion === undefined || (guard && !guard(before, after))) return undefined;
    if (!written.endsWith('.')) return expansion;
    if (!BEFORE_NAME.test(after)) return `${expansion}.`;
    return /^\S/u.test(after) ? `${expansion} ` : expansion;
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
        const before = whole.slice(Math.max(0, offset - 32), offset);
        return standalone(match, before, whole.slice(offset + match.length)) ?? match;
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
