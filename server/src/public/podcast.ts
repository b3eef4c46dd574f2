/**
 * A commune's podcast: RSS 2.0 with the iTunes tags podcast apps expect, one
 * episode per public notice that has aired. The enclosure is MP3 (every app
 * plays it); the Opus original is offered as a Podcasting 2.0 alternate
 * enclosure. GUIDs are made of the commune and the audio's sha256: the same
 * notice keeps its GUID across restarts and repeats.
 */
import { create } from 'xmlbuilder2';
import type { PublicCommune, PublicNotice } from './catalogue';

export interface PodcastEpisode extends PublicNotice {
  /** The MP3 copy's size in bytes (the enclosure's length). */
  mp3Bytes: number;
  /** The Opus original's size, when the original is Ogg. */
  oggBytes: number | null;
}

export interface PodcastInput {
  commune: PublicCommune;
  contact: string | null;
  episodes: PodcastEpisode[];
  /** Absolute URL of the commune's public page (ends in '/'). */
  pageUrl: string;
  feedUrl: string;
  now: number;
}

const ITUNES = 'http://www.itunes.com/dtds/podcast-1.0.dtd';
const ATOM = 'http://www.w3.org/2005/Atom';
const PODCAST = 'https://podcastindex.org/namespace/1.0';

export function renderPodcast(input: PodcastInput): string {
  const { commune, pageUrl } = input;
  const title = `Thông báo của ${commune.name}`;
  const summary =
    `Các thông báo đã phát trên loa truyền thanh của ${commune.name}, để nghe lại. ` +
    `Notices broadcast on the loudspeakers of ${commune.name}, to listen again.`;
  const rss = create({ version: '1.0', encoding: 'UTF-8' }).ele('rss', {
    version: '2.0',
    'xmlns:itunes': ITUNES,
    'xmlns:atom': ATOM,
    'xmlns:podcast': PODCAST,
  });
  const channel = rss.ele('channel');
  channel.ele('title').txt(title);
  channel.ele('link').txt(pageUrl);
  channel.ele(ATOM, 'atom:link', { href: input.feedUrl, rel: 'self', type: 'application/rss+xml' });
  channel.ele('description').txt(summary);
  channel.ele('language').txt('vi');
  channel.ele('lastBuildDate').txt(new Date(input.episodes[0]?.airedAt[0] ?? input.now).toUTCString());
  channel.ele('generator').txt('Loa Xã');
  channel.ele(ITUNES, 'itunes:author').txt(commune.name);
  channel.ele(ITUNES, 'itunes:summary').txt(summary);
  channel.ele(ITUNES, 'itunes:type').txt('episodic');
  channel.ele(ITUNES, 'itunes:explicit').txt('false');
  channel.ele(ITUNES, 'itunes:image', { href: `${pageUrl}podcast.png` });
  channel
    .ele('image')
    .ele('url')
    .txt(`${pageUrl}podcast.png`)
    .up()
    .ele('title')
    .txt(title)
    .up()
    .ele('link')
    .txt(pageUrl);
  channel.ele(ITUNES, 'itunes:category', { text: 'Government' });
  const owner = channel.ele(ITUNES, 'itunes:owner');
  owner.ele(ITUNES, 'itunes:name').txt(commune.name);
  if (input.contact) channel.ele('copyright').txt(`${commune.name} · ${input.contact}`);

  for (const e of input.episodes) {
    const audio = `${pageUrl}audio/${e.sha256}`;
    const item = channel.ele('item');
    item.ele('title').txt(e.title);
    item.ele('description').txt(e.text ?? e.title);
    item.ele('link').txt(pageUrl);
    item.ele('guid', { isPermaLink: 'false' }).txt(`loaxa:${commune.id}:${e.sha256}`);
    item.ele('pubDate').txt(new Date(e.airedAt.at(-1)!).toUTCString());
    item.ele('enclosure', { url: `${audio}.mp3`, length: String(e.mp3Bytes), type: 'audio/mpeg' });
    if (e.oggBytes !== null) {
      item
        .ele(PODCAST, 'podcast:alternateEnclosure', {
          type: 'audio/ogg; codecs=opus',
          length: String(e.oggBytes),
          title: 'Opus',
        })
        .ele(PODCAST, 'podcast:source', { uri: `${audio}.ogg` });
    }
    item.ele(ITUNES, 'itunes:duration').txt(String(Math.max(1, Math.round(e.durationMs / 1000))));
    item.ele(ITUNES, 'itunes:episodeType').txt('full');
    item.ele(ITUNES, 'itunes:explicit').txt('false');
  }
  return rss.end({ prettyPrint: false });
}
