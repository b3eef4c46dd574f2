import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ABBREVIATIONS,
  DOCUMENT_CODE_ABBREVIATIONS,
  digitsToWords,
  normalizeVietnamese,
  numberToWords,
  ordinalToWords,
  romanToNumber,
} from './index';

const Y2026 = 'hai nghìn không trăm hai mươi sáu';
const Y2025 = 'hai nghìn không trăm hai mươi lăm';

describe('numberToWords', () => {
  it.each<[bigint | number, string]>([
    [0, 'không'],
    [1, 'một'],
    [4, 'bốn'],
    [5, 'năm'],
    [10, 'mười'],
    [11, 'mười một'],
    [14, 'mười bốn'],
    [15, 'mười lăm'],
    [20, 'hai mươi'],
    [21, 'hai mươi mốt'],
    [24, 'hai mươi tư'],
    [25, 'hai mươi lăm'],
    [31, 'ba mươi mốt'],
    [44, 'bốn mươi tư'],
    [55, 'năm mươi lăm'],
    [90, 'chín mươi'],
    [99, 'chín mươi chín'],
    [100, 'một trăm'],
    [101, 'một trăm linh một'],
    [104, 'một trăm linh bốn'],
    [105, 'một trăm linh năm'],
    [110, 'một trăm mười'],
    [111, 'một trăm mười một'],
    [115, 'một trăm mười lăm'],
    [121, 'một trăm hai mươi mốt'],
    [205, 'hai trăm linh năm'],
    [999, 'chín trăm chín mươi chín'],
    [1000, 'một nghìn'],
    [1001, 'một nghìn không trăm linh một'],
    [1005, 'một nghìn không trăm linh năm'],
    [1010, 'một nghìn không trăm mười'],
    [1015, 'một nghìn không trăm mười lăm'],
    [1100, 'một nghìn một trăm'],
    [1995, 'một nghìn chín trăm chín mươi lăm'],
    [2000, 'hai nghìn'],
    [2024, 'hai nghìn không trăm hai mươi tư'],
    [2025, Y2025],
    [10_000, 'mười nghìn'],
    [15_000, 'mười lăm nghìn'],
    [21_000, 'hai mươi mốt nghìn'],
    [100_000, 'một trăm nghìn'],
    [105_000, 'một trăm linh năm nghìn'],
    [500_000, 'năm trăm nghìn'],
    [1_000_000, 'một triệu'],
    [1_000_005, 'một triệu không trăm linh năm'],
    [1_250_000, 'một triệu hai trăm năm mươi nghìn'],
    [2_050_000, 'hai triệu không trăm năm mươi nghìn'],
    [2_500_000, 'hai triệu năm trăm nghìn'],
    [1_000_000_000, 'một tỷ'],
    [1_500_000_000, 'một tỷ năm trăm triệu'],
    [2_000_000_001, 'hai tỷ không trăm linh một'],
    [1_000_000_000_000n, 'một nghìn tỷ'],
    [-5, 'âm năm'],
    [-21n, 'âm hai mươi mốt'],
    [2.5, 'hai phẩy năm'],
  ])('%s → %s', (n, words) => {
    expect(numberToWords(n)).toBe(words);
  });

  it('refuses what cannot be read aloud', () => {
    expect(() => numberToWords(Number.NaN)).toThrow(RangeError);
    expect(() => numberToWords(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('small helpers', () => {
  it.each<[number, string]>([
    [1, 'nhất'],
    [2, 'hai'],
    [4, 'tư'],
    [14, 'mười bốn'],
  ])('ordinal %s → %s', (n, words) => {
    expect(ordinalToWords(n)).toBe(words);
  });

  it.each<[string, number | null]>([
    ['IV', 4],
    ['XIV', 14],
    ['XXI', 21],
    ['IIII', null],
    ['iv', null],
  ])('Roman %s → %s', (numeral, value) => {
    expect(romanToNumber(numeral)).toBe(value);
  });

  it('reads digits one by one', () => {
    expect(digitsToWords('0912')).toBe('không chín một hai');
  });
});

/** One table per rule; every row is input → what the loudspeaker should say. */
const CASES: Record<string, ReadonlyArray<readonly [string, string]>> = {
  'numbers in text': [
    ['Có 21 hộ', 'Có hai mươi mốt hộ'],
    ['Thôn có 105 nhân khẩu', 'Thôn có một trăm linh năm nhân khẩu'],
    ['Tổng số 1.250.000 người', 'Tổng số một triệu hai trăm năm mươi nghìn người'],
    ['Dân số 12.000 người.', 'Dân số mười hai nghìn người.'],
    ['1.000.000.000', 'một tỷ'],
    ['1.000.000', 'một triệu'],
    ['Tăng 2,5 lần', 'Tăng hai phẩy năm lần'],
    ['0,05', 'không phẩy không năm'],
    ['3,14159', 'ba phẩy một bốn một năm chín'],
    ['1,250,000', 'một triệu hai trăm năm mươi nghìn'],
    ['Nhiệt độ thấp nhất -3 độ', 'Nhiệt độ thấp nhất âm ba độ'],
    ['-5', 'âm năm'],
    ['lần 1', 'lần một'],
    ['Điều 2.1', 'Điều hai chấm một'],
    ['Số 0123', 'Số không một hai ba'],
    ['F0', 'F không'],
    ['cúm H5N1', 'cúm H năm N một'],
    ['~50 người', 'khoảng năm mươi người'],
    ['năm 2025', `năm ${Y2025}`],
    ['năm 2025.', `năm ${Y2025}.`],
    ['Năm 1995', 'Năm một nghìn chín trăm chín mươi lăm'],
    ['tỷ lệ 1:50.000', 'tỷ lệ một trên năm mươi nghìn'],
  ],
  dates: [
    ['15/3/2026', `ngày mười lăm tháng ba năm ${Y2026}`],
    ['Ngày 15/3/2026', `Ngày mười lăm tháng ba năm ${Y2026}`],
    ['ngày 01/01/2026', `ngày một tháng một năm ${Y2026}`],
    ['ngày 4/4/2026', `ngày bốn tháng tư năm ${Y2026}`],
    ['24-12-2025', `ngày hai mươi tư tháng mười hai năm ${Y2025}`],
    ['ngày 21.11.2025', `ngày hai mươi mốt tháng mười một năm ${Y2025}`],
    ['ngày 01-02', 'ngày một tháng hai'],
    ['mùng 2/9', 'mùng hai tháng chín'],
    ['ngày 30/4 và 1/5', 'ngày ba mươi tháng tư và ngày một tháng năm'],
    ['Sáng 15/3, họp thôn', 'Sáng ngày mười lăm tháng ba, họp thôn'],
    ['từ 15/3 đến 20/3', 'từ ngày mười lăm tháng ba đến ngày hai mươi tháng ba'],
    ['15/3 - 20/3', 'ngày mười lăm tháng ba đến ngày hai mươi tháng ba'],
    ['từ ngày 15-20/3', 'từ ngày mười lăm đến hai mươi tháng ba'],
    ['15/3/2026 - 20/3/2026', `ngày mười lăm tháng ba năm ${Y2026} đến ngày hai mươi tháng ba năm ${Y2026}`],
    ['tháng 3/2026', `tháng ba năm ${Y2026}`],
    ['Tháng 04/2026', `Tháng tư năm ${Y2026}`],
    ['3/2026', `tháng ba năm ${Y2026}`],
    ['tháng 12', 'tháng mười hai'],
    ['tháng 4', 'tháng tư'],
    ['tháng 1', 'tháng một'],
    ['Quý 2/2026', `Quý hai năm ${Y2026}`],
    ['Quý II/2026', `Quý hai năm ${Y2026}`],
    ['số nhà 12/3', 'số nhà mười hai trên ba'],
    ['lớp 9/2', 'lớp chín trên hai'],
    // A fraction of something is read with "phần" (see the "fractions" table).
    ['khoảng 1/3 diện tích', 'khoảng một phần ba diện tích'],
    ['1/2 số hộ', 'một phần hai số hộ'],
  ],
  times: [
    ['7h30', 'bảy giờ ba mươi phút'],
    ['7h', 'bảy giờ'],
    ['7h00', 'bảy giờ'],
    ['7h05', 'bảy giờ năm phút'],
    ["7h30'", 'bảy giờ ba mươi phút'],
    ['7h30 phút', 'bảy giờ ba mươi phút'],
    ['7g30', 'bảy giờ ba mươi phút'],
    ['lúc 6H sáng', 'lúc sáu giờ sáng'],
    ['Lúc 21h45', 'Lúc hai mươi mốt giờ bốn mươi lăm phút'],
    ['0h', 'không giờ'],
    ['17:00', 'mười bảy giờ'],
    ['Lúc 14:15', 'Lúc mười bốn giờ mười lăm phút'],
    ['17:30:15', 'mười bảy giờ ba mươi phút mười lăm giây'],
    ['7h - 9h', 'bảy giờ đến chín giờ'],
    ['7h-9h', 'bảy giờ đến chín giờ'],
    ['từ 7h30-11h', 'từ bảy giờ ba mươi phút đến mười một giờ'],
    ['7:30 - 9:00', 'bảy giờ ba mươi phút đến chín giờ'],
    ['14 giờ', 'mười bốn giờ'],
    ['trong 48h', 'trong bốn mươi tám giờ'],
  ],
  'money and percent': [
    ['500.000đ', 'năm trăm nghìn đồng'],
    ['500.000 đ', 'năm trăm nghìn đồng'],
    ['500.000 VNĐ', 'năm trăm nghìn đồng'],
    ['500.000VND', 'năm trăm nghìn đồng'],
    ['12.500.000 VNĐ', 'mười hai triệu năm trăm nghìn đồng'],
    ['2 triệu đồng', 'hai triệu đồng'],
    ['2 triệu đ', 'hai triệu đồng'],
    ['1,5 triệu đồng', 'một phẩy năm triệu đồng'],
    ['20.000đ/kg', 'hai mươi nghìn đồng một ki lô gam'],
    ['3 triệu đồng/tháng', 'ba triệu đồng một tháng'],
    ['1.500.000 đồng/người/tháng', 'một triệu năm trăm nghìn đồng một người một tháng'],
    ['500k', 'năm trăm nghìn'],
    ['2tr', 'hai triệu'],
    ['50 USD', 'năm mươi đô la mỹ'],
    ['15%', 'mười lăm phần trăm'],
    ['2,5%', 'hai phẩy năm phần trăm'],
    ['100 %', 'một trăm phần trăm'],
    ['2.25%', 'hai phẩy hai mươi lăm phần trăm'],
    ['lãi suất 0,5%/tháng', 'lãi suất không phẩy năm phần trăm một tháng'],
    ['10-15%', 'mười đến mười lăm phần trăm'],
  ],
  units: [
    ['5 km', 'năm ki lô mét'],
    ['12km', 'mười hai ki lô mét'],
    ['50 kg', 'năm mươi ki lô gam'],
    ['1.5kg', 'một phẩy năm ki lô gam'],
    ['5ha', 'năm héc ta'],
    ['125,5 ha', 'một trăm hai mươi lăm phẩy năm héc ta'],
    ['100 m2', 'một trăm mét vuông'],
    ['100m²', 'một trăm mét vuông'],
    ['3 m3', 'ba mét khối'],
    ['30°C', 'ba mươi độ xê'],
    ['30oC', 'ba mươi độ xê'],
    ['-5°C', 'âm năm độ xê'],
    ['20-25°C', 'hai mươi đến hai mươi lăm độ xê'],
    ['lượng mưa 100mm', 'lượng mưa một trăm mi li mét'],
    ['15 cm', 'mười lăm xen ti mét'],
    ['cách 2 m', 'cách hai mét'],
    ['200g thịt', 'hai trăm gam thịt'],
    ['2 l nước', 'hai lít nước'],
    ['500 ml', 'năm trăm mi li lít'],
    ['60km/h', 'sáu mươi ki lô mét trên giờ'],
    ['6,2 tấn/ha', 'sáu phẩy hai tấn một héc ta'],
  ],
  'phone numbers': [
    ['Gọi 0912 345 678.', 'Gọi không chín một hai, ba bốn năm, sáu bảy tám.'],
    ['0912.345.678', 'không chín một hai, ba bốn năm, sáu bảy tám'],
    ['0912345678', 'không chín một hai, ba bốn năm, sáu bảy tám'],
    ['024 3825 1234', 'không hai bốn, ba tám hai năm, một hai ba bốn'],
    ['(024) 3825 1234', 'không hai bốn, ba tám hai năm, một hai ba bốn'],
    ['02438251234', 'không hai bốn, ba tám hai năm, một hai ba bốn'],
    ['+84 912 345 678', 'cộng tám bốn, chín một hai, ba bốn năm, sáu bảy tám'],
    ['+84912345678', 'cộng tám bốn, chín một hai, ba bốn năm, sáu bảy tám'],
    ['SĐT: 0987654321', 'số điện thoại: không chín tám bảy, sáu năm bốn, ba hai một'],
    ['Gọi 115', 'Gọi một một năm'],
    ['Gọi ngay số 113, 114 hoặc 115.', 'Gọi ngay số một một ba, một một bốn hoặc một một năm.'],
    ['đường dây nóng 113', 'đường dây nóng một một ba'],
    ['Hotline 1900 1234', 'Hotline một chín không không, một hai ba bốn'],
    ['số 115 đường Lê Lợi', 'số một trăm mười lăm đường Lê Lợi'],
  ],
  'Roman numerals': [
    ['Quý II', 'Quý hai'],
    ['quý IV', 'quý bốn'],
    ['Quý I', 'Quý một'],
    ['Khóa XV', 'Khóa mười lăm'],
    ['Đại hội XIII', 'Đại hội mười ba'],
    ['thế kỷ XXI', 'thế kỷ hai mươi mốt'],
    ['lần thứ I', 'lần thứ nhất'],
    ['lần thứ IV', 'lần thứ tư'],
    ['Đại hội Đảng bộ xã lần thứ XXV', 'Đại hội Đảng bộ xã lần thứ hai mươi lăm'],
    ['kỳ họp thứ IX', 'kỳ họp thứ chín'],
    ['Huân chương Lao động hạng II', 'Huân chương Lao động hạng nhì'],
    ['Phần C', 'Phần C'],
    ['Quý iv', 'Quý iv'],
  ],
  ordinals: [
    ['thứ 2', 'thứ hai'],
    ['Thứ 4', 'Thứ tư'],
    ['thứ 1', 'thứ nhất'],
    ['thứ 7, chủ nhật', 'thứ bảy, chủ nhật'],
    ['người thứ 14', 'người thứ mười bốn'],
    ['lần thứ 2', 'lần thứ hai'],
    ['từ thứ 2 - thứ 6', 'từ thứ hai đến thứ sáu'],
  ],
  ranges: [
    ['10-15 ngày', 'mười đến mười lăm ngày'],
    ['10 - 15 ngày', 'mười đến mười lăm ngày'],
    ['5–7 người', 'năm đến bảy người'],
    ['nhiệm kỳ 2020-2025', `nhiệm kỳ hai nghìn không trăm hai mươi đến ${Y2025}`],
    ['500.000-700.000đ', 'năm trăm nghìn đến bảy trăm nghìn đồng'],
    ['2 triệu - 3 triệu đồng', 'hai triệu đến ba triệu đồng'],
  ],
  abbreviations: [
    ['UBND xã thông báo', 'ủy ban nhân dân xã thông báo'],
    ['HĐND xã', 'hội đồng nhân dân xã'],
    ['MTTQ', 'mặt trận tổ quốc'],
    ['UBMTTQ xã', 'ủy ban mặt trận tổ quốc xã'],
    ['Trường THCS Yên Sơn', 'Trường trung học cơ sở Yên Sơn'],
    ['Trường THPT', 'Trường trung học phổ thông'],
    ['thẻ BHYT, BHXH', 'thẻ bảo hiểm y tế, bảo hiểm xã hội'],
    ['mang theo CCCD hoặc CMND', 'mang theo căn cước công dân hoặc chứng minh nhân dân'],
    ['HTX Nông nghiệp', 'hợp tác xã Nông nghiệp'],
    ['CSGT', 'cảnh sát giao thông'],
    ['PCCC', 'phòng cháy chữa cháy'],
    ['PCCC&CNCH', 'phòng cháy chữa cháy và cứu nạn cứu hộ'],
    ['ATTP', 'an toàn thực phẩm'],
    ['ATGT', 'an toàn giao thông'],
    ['KHHGĐ', 'kế hoạch hóa gia đình'],
    ['Phòng GD&ĐT', 'Phòng giáo dục và đào tạo'],
    ['Phòng GDĐT', 'Phòng giáo dục và đào tạo'],
    ['Phòng GD-ĐT', 'Phòng giáo dục và đào tạo'],
    ['V/v tiêm phòng', 'về việc tiêm phòng'],
    ['Số: 15/TB-UBND', 'Số: mười lăm thông báo ủy ban nhân dân'],
    ['Sở NN&PTNT', 'Sở nông nghiệp và phát triển nông thôn'],
    ['Sở TN&MT', 'Sở tài nguyên và môi trường'],
    ['Phòng LĐ-TB&XH', 'Phòng lao động thương binh và xã hội'],
    ['CA xã', 'công an xã'],
    ['Ca trực đêm', 'Ca trực đêm'],
    ['BCH Quân sự', 'ban chỉ huy Quân sự'],
    ['theo QĐ của huyện', 'theo quyết định của huyện'],
    ['NĐ-CP', 'nghị định chính phủ'],
    ['TTg', 'thủ tướng'],
    ['ĐVT: đồng', 'đơn vị tính: đồng'],
    ['STT', 'số thứ tự'],
    ['dịch Covid-19.', 'dịch cô vít mười chín.'],
    ['COVID-19', 'cô vít mười chín'],
    ['TP. Hà Nội', 'thành phố Hà Nội'],
    ['TP Hải Phòng', 'thành phố Hải Phòng'],
    ['về TP.', 'về thành phố.'],
    ['TP.HCM', 'thành phố hồ chí minh'],
    ['TT Đông Anh', 'thị trấn Đông Anh'],
    ['ký hiệu TT', 'ký hiệu TT'],
    ['HĐND-UBND', 'hội đồng nhân dân ủy ban nhân dân'],
    ['Quyết định số 123/QĐ-UBND', 'Quyết định số một trăm hai mươi ba quyết định ủy ban nhân dân'],
    ['Thông tư 12/2020/TT-BYT', 'Thông tư mười hai năm hai nghìn không trăm hai mươi thông tư bộ y tế'],
    ['Chỉ thị 15/CT-TTg', 'Chỉ thị mười lăm chỉ thị thủ tướng'],
    ['KH', 'KH'],
    ['ĐUBND', 'ĐUBND'],
    ['UBNDđ', 'UBNDđ'],
    ['ubnd', 'ubnd'],
    ['Nông nghiệp & PTNT', 'Nông nghiệp và phát triển nông thôn'],
  ],
  'service and hotline numbers': [
    ['Gọi tổng đài 1022 để phản ánh.', 'Gọi tổng đài một không hai hai để phản ánh.'],
    ['đường dây nóng 1080', 'đường dây nóng một không tám không'],
    ['Hotline: 1022', 'Hotline: một không hai hai'],
    ['Tổng đài 116 hỗ trợ tra cứu', 'Tổng đài một một sáu hỗ trợ tra cứu'],
    ['bà con gọi 1022.', 'bà con gọi một không hai hai.'],
    ['gọi số 1088 của thành phố', 'gọi số một không tám tám của thành phố'],
    ['Liên hệ: 1022', 'Liên hệ: một không hai hai'],
    ['SĐT: 1022', 'số điện thoại: một không hai hai'],
    ['gọi 111 hoặc 1022', 'gọi một một một hoặc một không hai hai'],
    ['hotline 1800 1091', 'hotline một tám không không, một không chín một'],
    ['hotline 1800-1091', 'hotline một tám không không, một không chín một'],
    ['tổng đài 18001091', 'tổng đài một tám không không, một không chín một'],
    ['1900 96 96 80', 'một chín không không, chín sáu, chín sáu, tám không'],
    ['hotline 0912 345 678 hoặc 1022', 'hotline không chín một hai, ba bốn năm, sáu bảy tám hoặc một không hai hai'],
    // Near misses: quantities after the same words, and numbers without a hotline word, stay numbers.
    ['kêu gọi 500 hộ tham gia', 'kêu gọi năm trăm hộ tham gia'],
    ['gọi 120 thanh niên nhập ngũ', 'gọi một trăm hai mươi thanh niên nhập ngũ'],
    ['tổng đài viên 120 người', 'tổng đài viên một trăm hai mươi người'],
    ['số 1022 đường Lê Lợi', 'số một nghìn không trăm hai mươi hai đường Lê Lợi'],
    ['giai đoạn 1900-1945', 'giai đoạn một nghìn chín trăm đến một nghìn chín trăm bốn mươi lăm'],
  ],
  fractions: [
    ['2/3 diện tích', 'hai phần ba diện tích'],
    ['hơn 2/3 số đại biểu tán thành', 'hơn hai phần ba số đại biểu tán thành'],
    ['hỗ trợ 1/2 học phí', 'hỗ trợ một phần hai học phí'],
    ['chiếm 3/4 dân số', 'chiếm ba phần bốn dân số'],
    ['giảm 1/2 giá vé', 'giảm một phần hai giá vé'],
    ['còn 1/4.', 'còn một phần bốn.'],
    ['3/10 kinh phí', 'ba phần mười kinh phí'],
    ['thay 1/3 số bóng đèn', 'thay một phần ba số bóng đèn'],
    // Near misses: dates, document numbers, addresses, ratios and "24/7" stay as they were read.
    ['15/3', 'ngày mười lăm tháng ba'],
    ['15/3/2025', `ngày mười lăm tháng ba năm ${Y2025}`],
    ['từ 1/6 học sinh nghỉ hè', 'từ ngày một tháng sáu học sinh nghỉ hè'],
    ['Quốc khánh 2/9 số người về quê đông', 'Quốc khánh ngày hai tháng chín số người về quê đông'],
    ['dịp 30/4 - 1/5', 'dịp ngày ba mươi tháng tư đến ngày một tháng năm'],
    [
      'Thông tư 39/2020/TT-BTTTT',
      'Thông tư ba mươi chín năm hai nghìn không trăm hai mươi thông tư bộ thông tin và truyền thông',
    ],
    ['Quyết định 18/2021/QĐ-TTg', 'Quyết định mười tám năm hai nghìn không trăm hai mươi mốt quyết định thủ tướng'],
    ['số nhà 1/2', 'số nhà một trên hai'],
    ['tỷ lệ 1/2', 'tỷ lệ một trên hai'],
    ['trực 24/7', 'trực hai mươi tư trên bảy'],
  ],
  'administrative places': [
    ['TT. Đông Anh', 'thị trấn Đông Anh'],
    ['TT.Đông Anh', 'thị trấn Đông Anh'],
    ['P. Bến Thành', 'phường Bến Thành'],
    ['P.5, Q.3, TP.HCM', 'phường năm, quận ba, thành phố hồ chí minh'],
    ['UBND P. Bến Thành, Q. 1', 'ủy ban nhân dân phường Bến Thành, quận một'],
    ['TP.Huế', 'thành phố Huế'],
    ['Tp. Huế', 'thành phố Huế'],
    ['Q. Ba Đình', 'quận Ba Đình'],
    ['UBND X. Tân Lập, H. Đông Anh', 'ủy ban nhân dân xã Tân Lập, huyện Đông Anh'],
    ['TX. Sơn Tây', 'thị xã Sơn Tây'],
    ['TDP số 5', 'tổ dân phố số năm'],
    ['họp TDP Đông', 'họp tổ dân phố Đông'],
    ['KP 3', 'khu phố ba'],
    ['KP Đông Hòa', 'khu phố Đông Hòa'],
    // Near misses: a Roman numeral or a label before a full stop, and "KP" that is not a place.
    ['Khóa X. Tham dự', 'Khóa mười. Tham dự'],
    ['Đại hội X.', 'Đại hội mười.'],
    ['KP hỗ trợ', 'KP hỗ trợ'],
    ['phương án X', 'phương án X'],
  ],
  'units glued to numbers': [
    ['220V', 'hai trăm hai mươi vôn'],
    ['điện áp 220 V', 'điện áp hai trăm hai mươi vôn'],
    ['15kW', 'mười lăm ki lô oát'],
    ['đường dây 110kV', 'đường dây một trăm mười ki lô vôn'],
    ['2,5 MW', 'hai phẩy năm mê ga oát'],
    ['2m5', 'hai mét rưỡi'],
    ['cao 1m70', 'cao một mét bảy mươi'],
    ['1m05', 'một mét linh năm'],
    ['3kg', 'ba ki lô gam'],
    ['1,5km', 'một phẩy năm ki lô mét'],
    ['1,5 km', 'một phẩy năm ki lô mét'],
    ['5 m3', 'năm mét khối'],
    ['50m3 nước', 'năm mươi mét khối nước'],
    ['5m2', 'năm mét vuông'],
    ['0,5 ha', 'không phẩy năm héc ta'],
    ['1.5-2 kg', 'một phẩy năm đến hai ki lô gam'],
    ['200V - 240V', 'hai trăm vôn đến hai trăm bốn mươi vôn'],
    ['2tr5', 'hai triệu rưỡi'],
    ['3k5', 'ba nghìn rưỡi'],
    // Near misses: a Roman "V" and a class letter are not units.
    ['Khóa V', 'Khóa năm'],
    ['lớp 10A', 'lớp mười A'],
  ],
  'everyday abbreviations': [
    ['CLB Thơ xã', 'câu lạc bộ Thơ xã'],
    ['giải quyết TTHC', 'giải quyết thủ tục hành chính'],
    ['SĐT liên hệ', 'số điện thoại liên hệ'],
    ['Thường trực ĐU xã', 'Thường trực đảng ủy xã'],
    ['Ban CHQS xã', 'Ban chỉ huy quân sự xã'],
    ['Hội CTĐ, Hội NCT', 'Hội chữ thập đỏ, Hội người cao tuổi'],
    ['thuế TNCN', 'thuế thu nhập cá nhân'],
    ['BCH PCTT-TKCN xã', 'ban chỉ huy phòng chống thiên tai và tìm kiếm cứu nạn xã'],
    ['Trường MN Hoa Sen', 'Trường mầm non Hoa Sen'],
    ['Trường TH Yên Sơn', 'Trường tiểu học Yên Sơn'],
    ['các cấp học MN, TH và THCS', 'các cấp học mầm non, tiểu học và trung học cơ sở'],
    ['Trường TH&THCS', 'Trường tiểu học và trung học cơ sở'],
    ['nộp hồ sơ qua DVC', 'nộp hồ sơ qua dịch vụ công'],
    ['cổng DVCTT', 'cổng dịch vụ công trực tuyến'],
    ['đổi GPLX', 'đổi giấy phép lái xe'],
    ['NSNN hỗ trợ', 'ngân sách nhà nước hỗ trợ'],
    ['vùng DTTS và vùng ĐBKK', 'vùng dân tộc thiểu số và vùng đặc biệt khó khăn'],
    ['tư vấn XKLĐ cho NLĐ', 'tư vấn xuất khẩu lao động cho người lao động'],
    ['ứng dụng CNTT, CĐS', 'ứng dụng công nghệ thông tin, chuyển đổi số'],
    ['CBCCVC', 'cán bộ công chức viên chức'],
    ['vay vốn NHCSXH', 'vay vốn ngân hàng chính sách xã hội'],
    ['TTATGT', 'trật tự an toàn giao thông'],
    ['ATVSTP', 'an toàn vệ sinh thực phẩm'],
    ['PCCCR', 'phòng cháy chữa cháy rừng'],
    ['GĐVH', 'gia đình văn hóa'],
    ['ứng phó BĐKH', 'ứng phó biến đổi khí hậu'],
    // Near misses: names read letter by letter stay as written, as do "MN" and "TH" without a school word.
    ['cài ứng dụng VNeID', 'cài ứng dụng VNeID'],
    ['rút tiền tại ATM', 'rút tiền tại ATM'],
    ['quét mã QR', 'quét mã QR'],
    ['MN', 'MN'],
    ['TH', 'TH'],
  ],
  'ranges and scores': [
    ['từ 20-25 tuổi', 'từ hai mươi đến hai mươi lăm tuổi'],
    ['trẻ 6-59 tháng tuổi', 'trẻ sáu đến năm mươi chín tháng tuổi'],
    ['gió giật cấp 10-11', 'gió giật cấp mười đến mười một'],
    ['giật cấp 10 - 11', 'giật cấp mười đến mười một'],
    ['2021-2025', `hai nghìn không trăm hai mươi mốt đến ${Y2025}`],
    ['giai đoạn 2021–2025', `giai đoạn hai nghìn không trăm hai mươi mốt đến ${Y2025}`],
    ['nam từ 18–27 tuổi', 'nam từ mười tám đến hai mươi bảy tuổi'],
    ['từ 2 lần - 3 lần', 'từ hai lần đến ba lần'],
    ['5 người – 7 người', 'năm người đến bảy người'],
    ['10-11/2025', `tháng mười đến tháng mười một năm ${Y2025}`],
    ['từ tháng 1-4/2026', `từ tháng một đến tháng tư năm ${Y2026}`],
    ['thắng 2-3 trận', 'thắng hai đến ba trận'],
    // Near misses: scores are read number by number; dates, day spans and phone numbers keep their reading.
    ['tỷ số 2-1', 'tỷ số hai một'],
    ['thắng 3 - 0', 'thắng ba không'],
    ['hòa 1-1', 'hòa một một'],
    ['Tỷ số chung cuộc 2:1', 'Tỷ số chung cuộc hai một'],
    ['ngày 20-25/3', 'ngày hai mươi đến hai mươi lăm tháng ba'],
    ['0912-345-678', 'không chín một hai, ba bốn năm, sáu bảy tám'],
  ],
  'pass-through and tidying': [
    ['Xin chào bà con, hôm nay trời đẹp!', 'Xin chào bà con, hôm nay trời đẹp!'],
    [
      'Bà con chú ý: ngày mai có mưa lớn; đề nghị giữ an toàn.',
      'Bà con chú ý: ngày mai có mưa lớn; đề nghị giữ an toàn.',
    ],
    ['Ủy ban nhân dân xã kính mời bà con dự họp?', 'Ủy ban nhân dân xã kính mời bà con dự họp?'],
    ['', ''],
    ['THÔNG BÁO  về   việc', 'THÔNG BÁO về việc'],
    ['Dòng một\n\n\nDòng hai', 'Dòng một\nDòng hai'],
    ['  Xin chào  ', 'Xin chào'],
    ['Có 5 hộ , 3 người', 'Có năm hộ, ba người'],
  ],
};

describe.each(Object.entries(CASES))('normalizeVietnamese: %s', (_rule, cases) => {
  it.each(cases)('%j → %j', (input, expected) => {
    expect(normalizeVietnamese(input)).toBe(expected);
  });
});

describe('normalizeVietnamese: a whole notice', () => {
  it('reads a typical announcement end to end', () => {
    const notice =
      'UBND xã thông báo: từ 7h30 - 11h ngày 15/3/2026 (thứ 2), TYT xã tiêm vắc-xin cho trẻ từ 5-11 tuổi, ' +
      'phí 50.000đ/liều. Liên hệ 0912.345.678 hoặc gọi 115.';
    expect(normalizeVietnamese(notice)).toBe(
      'ủy ban nhân dân xã thông báo: từ bảy giờ ba mươi phút đến mười một giờ ngày mười lăm tháng ba năm ' +
        `${Y2026} (thứ hai), trạm y tế xã tiêm vắc-xin cho trẻ từ năm đến mười một tuổi, ` +
        'phí năm mươi nghìn đồng một liều. Liên hệ không chín một hai, ba bốn năm, sáu bảy tám hoặc gọi một một năm.',
    );
  });

  it('accepts decomposed (NFD) Vietnamese input', () => {
    expect(normalizeVietnamese('Ngày 15/3'.normalize('NFD'))).toBe('Ngày mười lăm tháng ba');
  });
});

describe('normalizeVietnamese: abbreviation options', () => {
  it('lets a commune override a default', () => {
    expect(normalizeVietnamese('UBND xã', { abbreviations: { UBND: 'ủy ban' } })).toBe('ủy ban xã');
  });

  it('adds a commune entry next to the defaults', () => {
    const abbreviations = { ĐTN: 'đoàn thanh niên' };
    expect(normalizeVietnamese('ĐTN và UBND', { abbreviations })).toBe('đoàn thanh niên và ủy ban nhân dân');
  });

  it('prefers the longest key, including a commune key that contains a default one', () => {
    const abbreviations = { 'UBND xã': 'ủy ban xã nhà' };
    expect(normalizeVietnamese('UBND xã và UBND huyện', { abbreviations })).toBe(
      'ủy ban xã nhà và ủy ban nhân dân huyện',
    );
  });

  it('lifts the context guard of a default when the commune defines the key', () => {
    expect(normalizeVietnamese('ký hiệu TT', { abbreviations: { TT: 'trung tâm' } })).toBe('ký hiệu trung tâm');
  });

  it('matches mixed-case keys in any case', () => {
    expect(
      normalizeVietnamese('tổ Pccc-Dân phòng', { abbreviations: { 'Pccc-Dân phòng': 'phòng cháy dân phòng' } }),
    ).toBe('tổ phòng cháy dân phòng');
  });

  it('sees a changed dictionary object', () => {
    const abbreviations: Record<string, string> = { XY: 'ích y' };
    expect(normalizeVietnamese('XY', { abbreviations })).toBe('ích y');
    abbreviations.XY = 'xê y';
    expect(normalizeVietnamese('XY', { abbreviations })).toBe('xê y');
  });

  it('keeps the defaults frozen and large enough', () => {
    expect(Object.isFrozen(DEFAULT_ABBREVIATIONS)).toBe(true);
    expect(Object.isFrozen(DOCUMENT_CODE_ABBREVIATIONS)).toBe(true);
    expect(Object.keys(DEFAULT_ABBREVIATIONS).length).toBeGreaterThanOrEqual(40);
    for (const expansion of Object.values(DEFAULT_ABBREVIATIONS)) expect(expansion).toBe(expansion.toLowerCase());
  });
});

// Its speed (5,000 characters in under 10 ms) is measured by `npm run bench:tts`, beside the
// renders, not here: a wall-clock bound in a unit test starves on a loaded CI machine.
