/**
 * The villagers' page, rendered on the server: plain HTML and a little CSS, no
 * script, so a cheap Android phone on a slow 3G link shows it at once. Audio
 * players load nothing until pressed (preload="none"). Vietnamese first,
 * English with ?lang=en.
 */
import type { CurrentEmergency, PublicCommune, PublicNotice } from './catalogue';

export type PageLanguage = 'vi' | 'en';

const TEXT = {
  vi: {
    heading: 'Thông báo của xã',
    today: 'Hôm nay',
    earlier: 'Những ngày trước',
    none: 'Chưa có thông báo nào được phát.',
    noneToday: 'Hôm nay chưa có thông báo nào được phát.',
    aired: 'Đã phát',
    villages: 'Thôn',
    listen: 'Nghe',
    emergency: 'KHẨN CẤP',
    emergencyGeneric: 'Đang có thông báo khẩn cấp. Hãy nghe loa của thôn và làm theo hướng dẫn của chính quyền.',
    contact: 'Liên hệ',
    podcast: 'Nghe lại trên điện thoại',
    podcastHow: 'Mở ứng dụng podcast (Podcasts, AntennaPod, Spotify…), chọn “Thêm bằng địa chỉ” và dán địa chỉ này:',
    other: 'English',
    noAudio: 'Trình duyệt không phát được âm thanh.',
    language: { vi: 'Tiếng Việt' } as Record<string, string>,
  },
  en: {
    heading: 'Commune notices',
    today: 'Today',
    earlier: 'Earlier days',
    none: 'No notice has been broadcast yet.',
    noneToday: 'No notice has been broadcast today yet.',
    aired: 'Broadcast at',
    villages: 'Villages',
    listen: 'Listen',
    emergency: 'EMERGENCY',
    emergencyGeneric: 'An emergency notice is current. Listen to your village loudspeaker and follow the authorities.',
    contact: 'Contact',
    podcast: 'Listen again on your phone',
    podcastHow: 'Open a podcast app (Podcasts, AntennaPod, Spotify…), choose “Add by URL” and paste this address:',
    other: 'Tiếng Việt',
    noAudio: 'Your browser cannot play this audio.',
    language: { vi: 'Vietnamese' } as Record<string, string>,
  },
} as const;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Text made safe for HTML and XML element content and attribute values. */
export function escapeMarkup(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export interface PageInput {
  commune: PublicCommune;
  contact: string | null;
  notices: PublicNotice[];
  emergency: CurrentEmergency | null;
  now: number;
  timeZone: string;
  lang: PageLanguage;
  /** Absolute address of the commune's podcast feed. */
  feedUrl: string;
  /** Path of the commune's public pages, ending in '/': /public/{commune}/ */
  base: string;
}

function dayKey(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
}

function formatters(lang: PageLanguage, timeZone: string) {
  const locale = lang === 'vi' ? 'vi-VN' : 'en-GB';
  const time = new Intl.DateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit', hour12: false });
  const dayTime = new Intl.DateTimeFormat(locale, {
    timeZone,
    day: '2-digit',
    month: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  });
  return { time: (ms: number) => time.format(ms), dayTime: (ms: number) => dayTime.format(ms) };
}

const paragraphs = (text: string) =>
  text
    .split(/\n\s*\n|\n/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => `<p>${escapeMarkup(p)}</p>`)
    .join('');

/** One notice as an article: title, when and where it aired, its text and a player. */
function noticeHtml(n: PublicNotice, lang: PageLanguage, at: (ms: number) => string, audioBase: string): string {
  const t = TEXT[lang];
  const id = `n-${n.sha256.slice(0, 12)}`;
  const language = n.language !== 'vi' ? ` <span class="lang">(${escapeMarkup(n.language)})</span>` : '';
  const where = n.villages.length ? ` · ${t.villages}: ${escapeMarkup(n.villages.join(', '))}` : '';
  const src = `${audioBase}${n.sha256}`;
  return (
    `<article aria-labelledby="${id}"><h3 id="${id}" lang="${escapeMarkup(n.language)}">` +
    `${escapeMarkup(n.title)}${language}</h3>` +
    `<p class="meta">${t.aired} ${n.airedAt.map(at).join(', ')}${where}</p>` +
    (n.text ? `<div class="text" lang="${escapeMarkup(n.language)}">${paragraphs(n.text)}</div>` : '') +
    `<audio controls preload="none" aria-label="${t.listen}: ${escapeMarkup(n.title)}">` +
    `<source src="${src}.ogg" type="audio/ogg; codecs=opus"><source src="${src}.mp3" type="audio/mpeg">` +
    `${t.noAudio}</audio></article>`
  );
}

const STYLE =
  'body{margin:0;font:18px/1.5 system-ui,sans-serif;color:#111;background:#fff}' +
  'header,main,footer{max-width:46rem;margin:0 auto;padding:0 1rem}' +
  'header{border-bottom:3px solid #a50e0e}h1{font-size:1.6rem;margin:.6rem 0 0}header p{margin:0 0 .6rem}' +
  'h2{font-size:1.3rem;margin:1.4rem 0 .4rem}h3{font-size:1.15rem;margin:0 0 .2rem}' +
  'article{border-bottom:1px solid #767676;padding:.8rem 0}.meta{margin:0;color:#333;font-size:1rem}' +
  '.text p{margin:.4rem 0}audio{width:100%;margin-top:.4rem}' +
  '.alert{background:#a50e0e;color:#fff;padding:.8rem 1rem;margin:1rem 0;border-radius:4px}' +
  '.alert strong{display:block;font-size:1.2rem}a{color:#0645ad}.feed{word-break:break-all}' +
  'footer{border-top:1px solid #767676;margin-top:2rem;padding-bottom:2rem}.lang{font-weight:normal}';

export function renderPublicPage(input: PageInput): string {
  const { commune, lang } = input;
  const t = TEXT[lang];
  const f = formatters(lang, input.timeZone);
  const today = dayKey(input.now, input.timeZone);
  const isToday = (n: PublicNotice) => dayKey(n.airedAt[0]!, input.timeZone) === today;
  const todays = input.notices.filter(isToday);
  const earlier = input.notices.filter((n) => !isToday(n));
  const audioBase = `${input.base}audio/`;
  const list = (items: PublicNotice[], at: (ms: number) => string) =>
    items.map((n) => noticeHtml(n, lang, at, audioBase)).join('');
  const emergency = input.emergency
    ? `<div class="alert" role="alert"><strong>${t.emergency}</strong>` +
      (input.emergency.title
        ? `${escapeMarkup(input.emergency.title)}${input.emergency.text ? paragraphs(input.emergency.text) : ''}`
        : escapeMarkup(t.emergencyGeneric)) +
      '</div>'
    : '';
  const otherLang = lang === 'vi' ? '?lang=en' : '?lang=vi';
  const name = escapeMarkup(commune.name);
  return (
    `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">` +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    `<title>${t.heading} · ${name}</title><style>${STYLE}</style>` +
    `<link rel="alternate" type="application/rss+xml" title="${name}" href="${input.base}podcast.xml"></head><body>` +
    `<header><h1>${name}</h1><p>${t.heading} · <a href="${otherLang}" lang="${lang === 'vi' ? 'en' : 'vi'}">` +
    `${t.other}</a></p></header><main>${emergency}` +
    `<section aria-labelledby="today"><h2 id="today">${t.today}</h2>` +
    (todays.length ? list(todays, f.time) : `<p>${input.notices.length ? t.noneToday : t.none}</p>`) +
    '</section>' +
    (earlier.length
      ? `<section aria-labelledby="earlier"><h2 id="earlier">${t.earlier}</h2>${list(earlier, f.dayTime)}</section>`
      : '') +
    `</main><footer>` +
    (input.contact ? `<p><strong>${t.contact}:</strong> ${escapeMarkup(input.contact)}</p>` : '') +
    `<h2>${t.podcast}</h2><p>${t.podcastHow}</p>` +
    `<p class="feed"><a href="${input.base}podcast.xml">${escapeMarkup(input.feedUrl)}</a></p></footer></body></html>`
  );
}

/** The small page a commune embeds in its own website (an iframe): the latest few notices. */
export function renderWidget(input: Omit<PageInput, 'emergency' | 'contact' | 'feedUrl'>): string {
  const { lang } = input;
  const t = TEXT[lang];
  const f = formatters(lang, input.timeZone);
  const name = escapeMarkup(input.commune.name);
  return (
    `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">` +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    `<title>${t.heading} · ${name}</title><style>${STYLE}body{font-size:16px}</style></head><body><main>` +
    `<h1><a href="${input.base}" target="_top">${t.heading} · ${name}</a></h1>` +
    (input.notices.length
      ? input.notices.map((n) => noticeHtml(n, lang, f.dayTime, `${input.base}audio/`)).join('')
      : `<p>${t.none}</p>`) +
    '</main></body></html>'
  );
}
