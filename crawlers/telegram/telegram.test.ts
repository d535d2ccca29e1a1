import { readFileSync } from 'node:fs';
import { load } from 'cheerio';
import type { CheerioAPI } from 'cheerio';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectResumableCrawl } from '../../tests/helpers/crawl-conformance.ts';
import { fetchDeps } from '../../tests/helpers/fetch-deps.ts';
import { startFixtureServer } from '../../tests/helpers/fixture-server.ts';
import type { FixtureHandler, FixtureRoutes, FixtureServer } from '../../tests/helpers/fixture-server.ts';
import { expectGolden } from '../../tests/helpers/golden.ts';
import { createTestStore } from '../../tests/helpers/test-store.ts';
import { silentLogger } from '../../log/logger.ts';
import { runCrawl } from '../../scheduler/run-crawl.ts';
import type { CrawlDeps } from '../../scheduler/run-crawl.ts';
import { upsertBrand } from '../../store/brands.ts';
import type { Store } from '../../store/connect.ts';
import { findTarget, upsertTarget } from '../../store/targets.ts';
import { BlockedError, SourceChangedError, TargetUnusableError } from '../errors.ts';
import { createHttpClient } from '../http.ts';
import type { PoliteHttpClient } from '../http.ts';
import type { ParsedPage, RawPage } from '../types.ts';
import { readCursor } from './cursor.ts';
import { buildChannelUrl, fetchChannelPage } from './fetch.ts';
import { telegram } from './index.ts';
import { parseChannelPage } from './parse.ts';
import { targetSchema } from './schema.ts';
import type { TelegramCursor } from './schema.ts';
import { catchAsync, catchError } from '../../tests/helpers/catch-error.ts';
import { createFakeClock } from '../../tests/helpers/fake-clock.ts';
import { testCrawlDeps } from '../../tests/helpers/crawl-deps.ts';
import { basicTicketPolicy } from '../../pipeline/ticket-policy.ts';

const ctx = { fetchedAt: new Date('2025-03-01T12:00:00Z') };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CHANNEL_URL = 'https://t.me/s/topwar_official';
const html = { 'content-type': 'text/html; charset=utf-8' };
const FULL_IDS = [70989, 70990, 70992, 70995, 70996, 70997, 70998, 70999, 71000, 71006, 71007, 71008];

function readFixtureText(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

const FULL = readFixtureText('channel-topwar-official.html');

function rawPage(body: string, url = CHANNEL_URL, cursor: string | null = null): RawPage {
  return { url, status: 200, contentType: 'text/html; charset=utf-8', body, cursor };
}

function cursorOf(position: TelegramCursor): string {
  return JSON.stringify(position);
}

function parseHtml(body: string, url = CHANNEL_URL, cursor: string | null = null): ParsedPage {
  return parseChannelPage(rawPage(body, url, cursor), ctx);
}

/** The recording with changes made through cheerio, serialised back. */
function mutate(body: string, change: ($: CheerioAPI) => void): string {
  const $ = load(body, { xml: { xmlMode: false } });
  change($);
  return $.html();
}

function messageOf($: CheerioAPI, id: number) {
  return $(`.tgme_widget_message[data-post="topwar_official/${id}"]`);
}

/**
 * The real full page cut down to some of its posts, with the "older" link of the page pointing at the oldest
 * of them (or no such link on the oldest page), as t.me pages a channel.
 */
function channelPage(ids: readonly number[], before: number | null, change?: ($: CheerioAPI) => void): string {
  return mutate(FULL, ($) => {
    $('.tgme_widget_message_wrap').each((_, wrap) => {
      const post = $(wrap).find('.tgme_widget_message').attr('data-post') ?? '';
      if (!ids.includes(Number(post.split('/')[1]))) $(wrap).remove();
    });
    if (before === null) {
      $('.js-messages_more_wrap').remove();
      $('link[rel="prev"]').remove();
    } else {
      $('a.tme_messages_more').attr('data-before', String(before)).attr('href', `/s/topwar_official?before=${before}`);
      $('link[rel="prev"]').attr('href', `/s/topwar_official?before=${before}`);
    }
    change?.($);
  });
}

/** A post published after the recording: a copy of 71008 with a new id, date and text. */
function addNewerPost($: CheerioAPI, id: number, datetime: string, text: string): void {
  const wrap = messageOf($, 71008).closest('.tgme_widget_message_wrap').clone();
  const message = wrap.find('.tgme_widget_message');
  message.attr('data-post', `topwar_official/${id}`);
  message.find('.tgme_widget_message_forwarded_from').remove();
  message.find('.tgme_widget_message_text').first().text(text);
  message.find('.tgme_widget_message_date time').attr('datetime', datetime);
  message.find('.tgme_widget_message_views').text('1.2K');
  $('.js-message_history').append(wrap);
}

function emptyResultPage(): string {
  return mutate(FULL, ($) => {
    $('.tgme_widget_message_wrap').remove();
    $('.js-messages_more_wrap').remove();
    $('link[rel="prev"]').remove();
    $('.js-message_history').append('<div class="tme_no_messages_found">No posts found</div>');
  });
}

describe('telegram crawler metadata and target', () => {
  it('is wired as the registry expects', () => {
    expect(telegram).toMatchObject({
      id: 'telegram',
      matchKeywords: true,
      stopAtSeen: true,
      recheckHours: 0,
      maxPages: 20,
      defaultSchedule: '*/30 * * * *',
      rateLimit: { perHostPerSecond: 1 },
      expectedQuietDays: 30,
    });
    expect('credentials' in telegram).toBe(false);
  });

  it('takes a channel as @name, name or t.me link, lower-cased, and rejects what is no username', () => {
    expect(targetSchema.parse({ channel: '@TopWar_Official' })).toEqual({ channel: 'topwar_official', keywords: [], baseUrl: 'https://t.me' });
    expect(targetSchema.parse({ channel: 'https://t.me/s/topwar_official/' }).channel).toBe('topwar_official');
    expect(targetSchema.parse({ channel: 't.me/Durov' }).channel).toBe('durov');
    expect(targetSchema.parse({ channel: 'acme', keywords: [' Acme ', 'Acme', '#acme'] }).keywords).toEqual(['Acme', '#acme']);
    for (const channel of ['ab', '1acme', 'acme bank', 'acme-bank', 'https://example.com/acme', 'a'.repeat(33)]) {
      expect(targetSchema.safeParse({ channel }).success, channel).toBe(false);
    }
    expect(targetSchema.safeParse({ channel: 'acme', keywords: [''] }).success).toBe(false);
  });

  it('builds the channel, search and older-page URLs', () => {
    const target = targetSchema.parse({ channel: 'topwar_official', baseUrl: 'http://127.0.0.1:8080/' });
    const at = (keyword: string | null, before: number | null) => buildChannelUrl(target, { keyword, nextKeywords: [], before, page: 1 });
    expect(at(null, null)).toBe('http://127.0.0.1:8080/s/topwar_official');
    expect(at(null, 70989)).toBe('http://127.0.0.1:8080/s/topwar_official?before=70989');
    expect(at('#Белгород', null)).toBe('http://127.0.0.1:8080/s/topwar_official?q=%23%D0%91%D0%B5%D0%BB%D0%B3%D0%BE%D1%80%D0%BE%D0%B4');
    expect(at('acme bank', 42)).toBe('http://127.0.0.1:8080/s/topwar_official?q=acme+bank&before=42');
  });

  it('starts at the first keyword and reads only its own cursors', () => {
    const target = targetSchema.parse({ channel: 'acme', keywords: ['a1', 'a2', 'a3'] });
    expect(readCursor(null, target)).toEqual({ keyword: 'a1', nextKeywords: ['a2', 'a3'], before: null, page: 1 });
    expect(readCursor(null, targetSchema.parse({ channel: 'acme' }))).toEqual({ keyword: null, nextKeywords: [], before: null, page: 1 });
    expect(() => readCursor('70989', target)).toThrow(RangeError);
    expect(() => readCursor('{"before":-1}', target)).toThrow(RangeError);
  });
});

describe('parseChannelPage on the recordings', () => {
  const RECORDINGS: [file: string, channel: string][] = [
    ['channel-topwar-official.html', 'topwar_official'],
    ['message-text.html', 'topwar_official'],
    ['message-sticker.html', 'channel'],
    ['message-media-file.html', 'oper_goblin'],
    ['message-media-photo-and-video.html', 'anna_news'],
    ['message-media-round-video.html', 'bolshiepushki'],
    ['message-forwarded-from.html', 'oper_goblin'],
    ['message-link-preview.html', 'oper_goblin'],
    ['message-link-preview-text-only.html', 'oper_goblin'],
    ['message-link-preview-video.html', 'fighter_bomber'],
    ['message-with-from-author.html', 'channel'],
  ];

  it.each(RECORDINGS)('%s matches its golden file', (file, channel) => {
    const parsed = parseHtml(readFixtureText(file), `https://t.me/s/${channel}`);
    for (const m of parsed.mentions) {
      expect(m.publishedAt).toMatch(ISO);
      expect(m.text.length).toBeGreaterThan(0);
      expect(m.externalId).toMatch(/^[a-z0-9_]+\/\d+$/);
    }
    expectGolden(parsed, new URL(`./fixtures/${file.replace(/\.html$/, '.golden.json')}`, import.meta.url));
  });

  it('maps the twelve posts of the full page, oldest first, with the page behind them', () => {
    const first = parseHtml(FULL);
    const again = parseChannelPage(rawPage(FULL), { fetchedAt: new Date('2030-01-01T00:00:00Z') });
    expect(again).toEqual(first);
    expect(first.mentions.map((m) => m.externalId)).toEqual(FULL_IDS.map((id) => `topwar_official/${id}`));
    expect(first.nextCursor).toBe(cursorOf({ keyword: null, nextKeywords: [], before: 70989, page: 2 }));
    expect('nextStreamCursor' in first).toBe(false);
    expect(first.mentions[0]).toEqual({
      source: 'telegram',
      externalId: 'topwar_official/70989',
      url: 'https://t.me/topwar_official/70989',
      author: { name: 'Военное обозрение', handle: 'topwar_official', url: 'https://t.me/topwar_official', followers: 109_000 },
      title: null,
      text:
        'В Санкт-Петербурге в небо над городом подняли истребители из-за неизвестного объекта в воздухе, аэропорт ' +
        'Пулково не принимает самолеты, сообщает Baza.\nСудя по сервису Flightradar, гражданские самолеты не ' +
        'приближаются к Санкт-Петербургу.',
      rating: null,
      publishedAt: '2023-02-28T07:47:53.000Z',
      lang: null,
      metrics: { views: 37_200 },
      reply: null,
      parentExternalId: null,
      details: { place: 'topwar_official' },
    });
    const byId = new Map(first.mentions.map((m) => [m.externalId.split('/')[1], m]));
    expect(byId.get('71008')?.publishedAt).toBe('2023-02-28T13:14:03.000Z');
    expect(byId.get('71008')?.metrics).toEqual({ views: 14_900 });
    // Entities decoded: &quot; in the markup.
    expect(byId.get('70995')?.text).toBe('План "Ковер" отменен, небо над Санкт-Петербургом открывают, сообщает источник РЕН ТВ.');
    // An album's caption sits in a text block nested in another: read once.
    expect(byId.get('70992')?.text.match(/Сегодня ночью в Республике Адыгея/g)).toHaveLength(1);
    // Paragraphs (<br/><br/>) stay a blank line apart; bold title and body stay apart.
    expect(byId.get('70998')?.text.startsWith('Новые ракетные корабли ВМФ РФ с Калибрами вышли на учения в Балтийское море\n\nМалые')).toBe(true);
    const forwarded = first.mentions.filter((m) => m.details?.forwardedFrom).map((m) => m.details?.forwardedFrom);
    expect(forwarded).toEqual([
      { name: 'Военкор Ярем', url: 'https://t.me/yaremshooter/1066' },
      { name: 'БелВПО', url: 'https://t.me/Belarus_VPO/34301' },
      { name: 'Старше Эдды', url: 'https://t.me/vysokygovorit/10899' },
      { name: 'Пул N3', url: 'https://t.me/dimsmirnov175/44655' },
      { name: 'ImpNavigator', url: 'https://t.me/ImpNavigator/4580' },
    ]);
    expect(byId.get('70996')?.details?.links).toEqual([
      'https://t.me/infantmilitario/93419',
      'https://t.me/yaremshooter',
      'http://t.me/infantmilitario/93419',
    ]);
    expect(byId.get('70996')?.text).toContain('в Бахмуте на расстояние 180 метров, пока не');
  });

  it('reads the single-message recordings: caption, signature, forward, links, hashtags', () => {
    const one = (file: string, channel: string) => parseHtml(readFixtureText(file), `https://t.me/s/${channel}`).mentions;

    const [text] = one('message-text.html', 'topwar_official');
    expect(text?.text.startsWith('Неопознанный летающий объект замечен в 160 – 200 км от Петербурга\n\nПо данным «Фонтанки»')).toBe(true);
    expect(text?.metrics).toEqual({ views: 33_400 });
    expect(text?.author).toEqual({ name: 'Военное обозрение', handle: 'topwar_official', url: 'https://t.me/topwar_official' });

    const [signed] = one('message-with-from-author.html', 'channel');
    expect(signed).toMatchObject({ externalId: 'channel/4', text: 'test', metrics: { views: 1 }, details: { place: 'channel', signature: '🅰️rkadiy Ivanov' } });

    const [file] = one('message-media-file.html', 'oper_goblin');
    expect(file?.text).toBe(
      'Центр изучения новых коммуникаций подготовил исследование: «Оппозиционные проекты, запущенные или получившие ' +
        'дополнительное финансирование на фоне СВО»',
    );
    expect(file?.details?.forwardedFrom).toEqual({ name: 'Кремлёвская прачка', url: 'https://t.me/kremlinprachka/20294' });
    expect(file?.publishedAt).toBe('2022-08-03T19:31:10.000Z');
    expect(file?.metrics).toEqual({ views: 171_900 });

    const [album] = one('message-media-photo-and-video.html', 'anna_news');
    expect(album?.text).toBe(
      'Ночью над Белгородом сбили 3 беспилотника\n\nОни упали на улицы города.\n\nСообщается, что на себе БПЛА несли ' +
        'взрывчатку из пластида.\n\n#Белгород #Беспилотники\n\n@anna_news',
    );
    // Hashtag links are searches inside the channel, not links.
    expect(album?.details?.links).toEqual(['https://t.me/anna_news']);

    const [preview] = one('message-link-preview.html', 'oper_goblin');
    expect(preview?.details?.links).toEqual(['https://vnnews.ru/georgiy-zotov-okkupaciya-volosatym-kr/']);
    const [textOnly] = one('message-link-preview-text-only.html', 'oper_goblin');
    expect(textOnly?.details?.links).toEqual(['http://publication.pravo.gov.ru/Document/View/0001202302270011?index=7&rangeSize=1']);
    const [video] = one('message-link-preview-video.html', 'fighter_bomber');
    expect(video?.text).toBe('Жениться вам, барин, пора! 😁\n\nhttps://t.me/shalnyak/5410');
    expect(video?.metrics).toEqual({ views: 69_400 });

    const [forward] = one('message-forwarded-from.html', 'oper_goblin');
    expect(forward?.details?.forwardedFrom).toEqual({ name: 'Пул N3', url: 'https://t.me/dimsmirnov175/44604' });
    expect(forward?.metrics).toEqual({ views: 214_400 });
  });

  it('skips posts without words (sticker, round video) and says why nothing came', () => {
    expect(parseHtml(readFixtureText('message-sticker.html'), 'https://t.me/s/channel')).toEqual({ mentions: [], nextCursor: null });
    expect(parseHtml(readFixtureText('message-media-round-video.html'), 'https://t.me/s/bolshiepushki').mentions).toEqual([]);
  });

  it('takes a document title or a poll question as the text of a post without caption', () => {
    const file = mutate(readFixtureText('message-media-file.html'), ($) => $('.tgme_widget_message_text').remove());
    expect(parseHtml(file).mentions[0]?.text).toBe('Оппозиционные медиапроекты.pdf');
    // Poll markup as RSSHub's t.me route reads it (no recording of a poll).
    const poll = mutate(readFixtureText('message-sticker.html'), ($) =>
    {
      $('.message_media_not_supported_wrap').remove();
      $('.tgme_widget_message_sticker_wrap').replaceWith(
        '<div class="tgme_widget_message_poll"><div class="tgme_widget_message_poll_question">Which bank do you use?</div></div>',
      );
    });
    expect(parseHtml(poll).mentions[0]?.text).toBe('Which bank do you use?');
  });

  it('undoes the double escaping of & in text links and reads other counters', () => {
    const body = mutate(FULL, ($) => {
      messageOf($, 70996).find('a[onclick]').attr('href', 'https://example.com/news?a=1&amp;b=2');
      messageOf($, 70990).find('.tgme_widget_message_views').text('1.5M');
      messageOf($, 70992).find('.tgme_widget_message_views').text('12,3 тыс.');
    });
    const byId = new Map(parseHtml(body).mentions.map((m) => [m.externalId, m]));
    expect(byId.get('topwar_official/70996')?.details?.links?.[0]).toBe('https://example.com/news?a=1&b=2');
    expect(byId.get('topwar_official/70990')?.metrics).toEqual({ views: 1_500_000 });
    // A counter in a form we do not know is left out, not guessed.
    expect(byId.get('topwar_official/70992')?.metrics).toEqual({});
  });

  it('reads the post, not the message it replies to, and skips service messages', () => {
    const body = mutate(FULL, ($) => {
      messageOf($, 70990)
        .find('.tgme_widget_message_text')
        .before('<a class="tgme_widget_message_reply" href="https://t.me/topwar_official/70989"><div class="tgme_widget_message_text">Quoted earlier post</div></a>');
      messageOf($, 70995).removeAttr('data-post').addClass('service_message');
    });
    const parsed = parseHtml(body);
    expect(parsed.mentions.find((m) => m.externalId === 'topwar_official/70990')?.text).toBe(
      'Власти Петербурга подтвердили, что аэропорт Пулково временно не принимает самолеты.',
    );
    expect(parsed.mentions.map((m) => m.externalId)).not.toContain('topwar_official/70995');
    expect(parsed.mentions).toHaveLength(11);
  });

  it('keeps a channel post that talks about robots: block markers are looked for only on pages without posts', () => {
    const body = mutate(FULL, ($) => messageOf($, 70990).find('.tgme_widget_message_text').text('Я не робот, подтвердите, что вы не робот'));
    expect(parseHtml(body).mentions).toHaveLength(12);
  });
});

describe('parseChannelPage paging and streams', () => {
  it('follows the "older" link, or <link rel=prev> without it, and stops on the oldest page', () => {
    expect(parseHtml(channelPage(FULL_IDS, 70989, ($) => $('.js-messages_more_wrap').remove())).nextCursor).toBe(
      cursorOf({ keyword: null, nextKeywords: [], before: 70989, page: 2 }),
    );
    expect(parseHtml(channelPage([70989, 70990], null)).nextCursor).toBeNull();
    const older = cursorOf({ keyword: null, nextKeywords: [], before: 71000, page: 2 });
    expect(parseHtml(channelPage([70996, 70997, 70998, 70999], 70996), `${CHANNEL_URL}?before=71000`, older).nextCursor).toBe(
      cursorOf({ keyword: null, nextKeywords: [], before: 70996, page: 3 }),
    );
  });

  it('hands each keyword search over to the next one, and caps a search at five pages', () => {
    const first = cursorOf({ keyword: 'Пулково', nextKeywords: ['Вагнер', 'Калибр'], before: null, page: 1 });
    const parsed = parseHtml(FULL, `${CHANNEL_URL}?q=Пулково`, first);
    expect(parsed.nextCursor).toBe(cursorOf({ keyword: 'Пулково', nextKeywords: ['Вагнер', 'Калибр'], before: 70989, page: 2 }));
    expect(parsed.nextStreamCursor).toBe(cursorOf({ keyword: 'Вагнер', nextKeywords: ['Калибр'], before: null, page: 1 }));

    const last = cursorOf({ keyword: 'Калибр', nextKeywords: [], before: 71009, page: 5 });
    expect(parseHtml(FULL, `${CHANNEL_URL}?q=Калибр&before=71009`, last)).toMatchObject({ nextCursor: null, nextStreamCursor: null });
  });

  it('learns the search from the URL of a recording read back without its cursor', () => {
    const parsed = parseHtml(FULL, `${CHANNEL_URL}?q=%D0%9F%D1%83%D0%BB%D0%BA%D0%BE%D0%B2%D0%BE&before=71009`);
    expect(parsed.nextCursor).toBe(cursorOf({ keyword: 'Пулково', nextKeywords: [], before: 70989, page: 2 }));
    expect(parsed.nextStreamCursor).toBeNull();
    const bare = parseHtml(FULL, 'file:///tmp/channel-topwar-official.html');
    expect(bare.mentions).toHaveLength(12);
    expect(bare.nextCursor).toBe(cursorOf({ keyword: null, nextKeywords: [], before: 70989, page: 2 }));
  });
});

describe('parseChannelPage on empty, changed and unusable pages', () => {
  it('gives no mentions and no next page for "no posts found", and still moves to the next keyword', () => {
    expect(parseHtml(emptyResultPage())).toEqual({ mentions: [], nextCursor: null });
    const search = cursorOf({ keyword: 'Acme', nextKeywords: ['Acme Bank'], before: null, page: 1 });
    expect(parseHtml(emptyResultPage(), `${CHANNEL_URL}?q=Acme`, search)).toEqual({
      mentions: [],
      nextCursor: null,
      nextStreamCursor: cursorOf({ keyword: 'Acme Bank', nextKeywords: [], before: null, page: 1 }),
    });
  });

  it('throws SourceChangedError naming the message and the part that changed', () => {
    const noDate = mutate(FULL, ($) => messageOf($, 70995).find('.tgme_widget_message_date time').removeAttr('datetime'));
    const err = catchError(() => parseHtml(noDate));
    expect(err).toBeInstanceOf(SourceChangedError);
    expect((err as SourceChangedError).path).toBe('.tgme_widget_message[data-post="topwar_official/70995"] .tgme_widget_message_date time[datetime]');
    expect((err as Error).message).toContain('.tgme_widget_message[data-post="topwar_official/70995"] .tgme_widget_message_date time[datetime]');

    const badDate = mutate(FULL, ($) => messageOf($, 70989).find('.tgme_widget_message_date time').attr('datetime', 'yesterday'));
    expect((catchError(() => parseHtml(badDate)) as SourceChangedError).path).toBe(
      '.tgme_widget_message[data-post="topwar_official/70989"] .tgme_widget_message_date time[datetime]',
    );

    const badPost = mutate(FULL, ($) => messageOf($, 70997).attr('data-post', 'topwar_official-70997'));
    expect((catchError(() => parseHtml(badPost)) as SourceChangedError).path).toBe('.tgme_widget_message[data-post="topwar_official-70997"] [data-post]');

    // A message that lost its data-post and is no service message: the id attribute was renamed.
    const noPost = mutate(FULL, ($) => messageOf($, 70997).removeAttr('data-post'));
    expect((catchError(() => parseHtml(noPost)) as SourceChangedError).path).toBe('.tgme_widget_message[5] [data-post]');
  });

  it('throws rather than drop every post when the text class is renamed', () => {
    const renamed = FULL.replaceAll('tgme_widget_message_text', 'tgme_widget_message_body');
    const err = catchError(() => parseHtml(renamed));
    expect(err).toBeInstanceOf(SourceChangedError);
    // 70989 has a photo, so it could be an uncaptioned photo; 70990 is text only.
    expect((err as SourceChangedError).path).toBe('.tgme_widget_message[data-post="topwar_official/70990"] .tgme_widget_message_text');
  });

  it('throws SourceChangedError for a history without posts or notice, an unknown page, and a broken older link', () => {
    const noPosts = mutate(FULL, ($) => $('.tgme_widget_message_wrap').remove());
    expect((catchError(() => parseHtml(noPosts)) as SourceChangedError).path).toBe('.tgme_channel_history .tgme_widget_message');
    const other = catchError(() => parseHtml('<html><body><h1>Welcome</h1></body></html>'));
    expect(other).toBeInstanceOf(SourceChangedError);
    expect((other as SourceChangedError).path).toBe('.tgme_channel_history');
    expect(() => parseHtml('{"ok":true}')).toThrow(SourceChangedError);

    const badBefore = mutate(FULL, ($) => $('a.tme_messages_more').attr('data-before', 'next'));
    expect((catchError(() => parseHtml(badBefore)) as SourceChangedError).path).toBe('a.tme_messages_more[data-before]');
    const notOlder = cursorOf({ keyword: null, nextKeywords: [], before: 70000, page: 2 });
    expect(() => parseHtml(FULL, `${CHANNEL_URL}?before=70000`, notOlder)).toThrow(/not older than 70000/);
  });

  it('throws TargetUnusableError for a channel without web preview and for an unknown name', () => {
    const hidden = catchError(() => parseHtml(readFixtureText('constructed-no-preview.html'), 'https://t.me/acme_restricted'));
    expect(hidden).toBeInstanceOf(TargetUnusableError);
    expect((hidden as Error).message).toBe(
      'channel @acme_restricted has no public web preview: t.me shows its plain page ("Acme Insider", 12 345 subscribers) ' +
        'instead of posts; Telegram hides the preview when the owner restricts saving content, and for some channels it restricts itself; ' +
        'earshot reads only the preview, so remove the target or change targets[].params.channel ' +
        '(for the brand\'s own channel, check whether "Restrict saving content" is on)',
    );
    const unknown = catchError(() => parseHtml(readFixtureText('constructed-no-such-channel.html'), 'https://t.me/acme_nosuch'));
    expect(unknown).toBeInstanceOf(TargetUnusableError);
    expect((unknown as Error).message).toBe(
      'channel @acme_nosuch has no public web preview: t.me knows no public channel by that name; check targets[].params.channel',
    );
  });

  it('throws BlockedError for a captcha served with 200', () => {
    const captcha = '<html><head><title>Verify</title><script src="https://www.google.com/recaptcha/api.js"></script></head><body></body></html>';
    expect(() => parseHtml(captcha)).toThrow(BlockedError);
  });
});

describe('fetchChannelPage against a local server', () => {
  let server: FixtureServer | undefined;
  let http: PoliteHttpClient | undefined;
  afterEach(async () => {
    await server?.close();
    await http?.close();
    server = undefined;
    http = undefined;
  });

  it('waits out a 429 with Retry-After and returns the page with its effective cursor', async () => {
    server = await startFixtureServer({
      '/s/topwar_official': [
        { status: 429, headers: { 'retry-after': '3' }, body: 'Too Many Requests' },
        { headers: { 'content-type': 'text/html; charset=utf-8' }, body: FULL },
      ],
    });
    const clock = createFakeClock();
    const { sleeps } = clock;
    http = createHttpClient({
      now: clock.now,
      sleep: clock.sleep,
      random: () => 0,
    });
    const target = targetSchema.parse({ channel: '@TopWar_Official', baseUrl: server.url });
    const raw = await fetchChannelPage(target, null, fetchDeps(http));
    expect(sleeps).toEqual([3_000]);
    expect(raw.url).toBe(`${server.url}/s/topwar_official`);
    expect(raw.cursor).toBe(cursorOf({ keyword: null, nextKeywords: [], before: null, page: 1 }));
    expect(server.requests[1]?.headers['accept-language']).toMatch(/^en/);
    expect(parseChannelPage(raw, ctx).mentions).toHaveLength(12);
  });

  it('follows the redirect of a channel without preview to its plain page, which parse refuses', async () => {
    server = await startFixtureServer({
      '/s/acme_restricted': { status: 302, headers: { location: '/acme_restricted' } },
      '/acme_restricted': { headers: { 'content-type': 'text/html; charset=utf-8' }, body: readFixtureText('constructed-no-preview.html') },
    });
    http = createHttpClient({ perHostPerSecond: 0 });
    const raw = await fetchChannelPage(targetSchema.parse({ channel: 'acme_restricted', baseUrl: server.url }), null, fetchDeps(http));
    expect(raw.url).toBe(`${server.url}/acme_restricted`);
    expect(() => parseChannelPage(raw, ctx)).toThrow(/channel @acme_restricted has no public web preview/);
  });

  it('turns a 404 for the channel into TargetUnusableError naming the field to check', async () => {
    server = await startFixtureServer({});
    http = createHttpClient({ perHostPerSecond: 0, retries: 0 });
    const fetching = fetchChannelPage(targetSchema.parse({ channel: 'acme_gone', baseUrl: server.url }), null, fetchDeps(http));
    const gone = await catchAsync(fetching);
    expect(gone).toBeInstanceOf(TargetUnusableError);
    expect((gone as Error).message).toBe(
      `channel @acme_gone has no public web preview: ${server.url}/s/acme_gone answers HTTP 404; check targets[].params.channel`,
    );
  });
});

describe('telegram crawls end to end', () => {
  const NOW = new Date('2026-11-22T10:00:00Z');
  let store: Store;
  let http: PoliteHttpClient;

  beforeAll(async () => {
    store = await createTestStore();
    http = createHttpClient({ perHostPerSecond: 0, retries: 0 });
  });
  afterAll(async () => {
    await http.close();
    await store.close();
  });

  async function crawl(targetId: string, params: Record<string, unknown>, keywords: string[]) {
    const brand = await upsertBrand(store.db, { name: `Acme ${targetId}`, keywords }, NOW);
    await upsertTarget(store.db, { id: targetId, source: 'telegram', brandIds: [brand.id], params, schedule: '*/30 * * * *', enabled: true }, NOW);
    const deps = testCrawlDeps(store.db, {
      httpFor: () => http,
      now: () => NOW,
      log: silentLogger,
      policy: basicTicketPolicy({ defaultTeam: 'support', helpdesks: [], channels: [] }),
    });
    return runCrawl(deps, { id: targetId, source: 'telegram', params, brands: [brand] });
  }

  const served = (server: FixtureServer) => server.requests.map((r) => r.query['before'] ?? '-');

  it('pages back through the channel, then stops after one page when nothing new names the brand', async () => {
    let newest = channelPage([71000, 71006, 71007, 71008], 71000);
    const server = await startFixtureServer({
      '/s/topwar_official': (_req, res) => {
        res.writeHead(200, html).end(newest);
      },
      '/s/topwar_official?before=71000': { headers: html, body: channelPage([70996, 70997, 70998, 70999], 70996) },
      '/s/topwar_official?before=70996': { headers: html, body: channelPage([70989, 70990, 70992, 70995], null) },
    });
    try {
      const params = { channel: 'topwar_official', baseUrl: server.url };
      // Only two of the twelve posts name the airport: the rest are fetched, dated and left unmatched.
      const first = await crawl('tg-paging', params, ['Пулково']);
      expect(first).toMatchObject({ status: 'ok', pages: 3, fetched: 12, new: 2, unmatched: 10 });
      expect(served(server)).toEqual(['-', '71000', '70996']);
      const stored = await store.db.selectFrom('mentions').select(['external_id', 'published_at', 'url']).where('target_id', '=', 'tg-paging').orderBy('external_id').execute();
      expect(stored.map((m) => m.external_id)).toEqual(['topwar_official/70989', 'topwar_official/70990']);
      expect(new Date(stored[0]!.published_at!).toISOString()).toBe('2023-02-28T07:47:53.000Z');
      expect(stored[0]?.url).toBe('https://t.me/topwar_official/70989');

      // Nothing stored is on the first page, but its dates reach back to what the last crawl fetched.
      const second = await crawl('tg-paging', params, ['Пулково']);
      expect(second).toMatchObject({ status: 'ok', pages: 1, new: 0 });
      expect(served(server)).toEqual(['-', '71000', '70996', '-']);

      newest = channelPage([71000, 71006, 71007, 71008], 71000, ($) => addNewerPost($, 71009, '2023-02-28T13:30:00+00:00', 'Аэропорт Пулково снова принимает самолеты.'));
      const third = await crawl('tg-paging', params, ['Пулково']);
      expect(third).toMatchObject({ status: 'ok', pages: 1, new: 1 });
      const target = await findTarget(store.db, 'tg-paging');
      expect(target?.state).toBe('ok');
      expect(target?.watermark_at?.toISOString()).toBe('2023-02-28T13:30:00.000Z');
    } finally {
      await server.close();
    }
  });

  it('searches the channel once per keyword, and a second crawl reads one page of each', async () => {
    const server = await startFixtureServer({
      '/s/topwar_official?q=Калибр': { headers: html, body: channelPage([70998], null) },
      '/s/topwar_official?q=Туапсе': { headers: html, body: channelPage([71000], 71000) },
      '/s/topwar_official?q=Туапсе&before=71000': { headers: html, body: emptyResultPage() },
    });
    try {
      const params = { channel: 'topwar_official', keywords: ['Калибр', 'Туапсе'], baseUrl: server.url };
      const first = await crawl('tg-search', params, ['Калибр', 'Туапсе']);
      expect(first).toMatchObject({ status: 'ok', pages: 3, fetched: 2, new: 2 });
      expect(server.requests.map((r) => [r.query['q'], r.query['before'] ?? '-'])).toEqual([
        ['Калибр', '-'],
        ['Туапсе', '-'],
        ['Туапсе', '71000'],
      ]);
      // Each search reaches a stored post on its first page and hands over to the next search.
      const second = await crawl('tg-search', params, ['Калибр', 'Туапсе']);
      expect(second).toMatchObject({ status: 'ok', pages: 2, new: 0 });
      expect(server.requests.slice(3).map((r) => r.query['q'])).toEqual(['Калибр', 'Туапсе']);
    } finally {
      await server.close();
    }
  });

  it('reports a 429 as rate limited with the wait the source asked for', async () => {
    const server = await startFixtureServer({ '/s/topwar_official': { status: 429, headers: { 'retry-after': '120' }, body: 'Too Many Requests' } });
    try {
      const summary = await crawl('tg-429', { channel: 'topwar_official', baseUrl: server.url }, ['Пулково']);
      expect(summary).toMatchObject({ status: 'failed', errorKind: 'RateLimitedError', retryAfterMs: 120_000 });
      expect((await findTarget(store.db, 'tg-429'))?.state).toBe('degraded');
    } finally {
      await server.close();
    }
  });

  it('marks the target blocked on a captcha page', async () => {
    const captcha = '<html><head><title>Verify</title><script src="https://www.google.com/recaptcha/api.js"></script></head><body><div class="g-recaptcha"></div></body></html>';
    const server = await startFixtureServer({ '/s/topwar_official': { headers: html, body: captcha } });
    try {
      const summary = await crawl('tg-captcha', { channel: 'topwar_official', baseUrl: server.url }, ['Пулково']);
      expect(summary).toMatchObject({ status: 'failed', errorKind: 'BlockedError' });
      expect((await findTarget(store.db, 'tg-captcha'))?.state).toBe('blocked');
    } finally {
      await server.close();
    }
  });

  it('marks a channel without web preview needs_action with a clear reason, never an empty success', async () => {
    const server = await startFixtureServer({
      '/s/acme_restricted': { status: 302, headers: { location: '/acme_restricted' } },
      '/acme_restricted': { headers: html, body: readFixtureText('constructed-no-preview.html') },
    });
    try {
      const summary = await crawl('tg-hidden', { channel: '@acme_restricted', baseUrl: server.url }, ['Acme']);
      expect(summary).toMatchObject({ status: 'failed', errorKind: 'TargetUnusableError', pages: 0 });
      expect(summary.error).toContain('channel @acme_restricted has no public web preview');
      const target = await findTarget(store.db, 'tg-hidden');
      expect(target?.state).toBe('needs_action');
      expect(target?.last_error).toContain('TargetUnusableError: channel @acme_restricted has no public web preview');
    } finally {
      await server.close();
    }
  });
});

describe('a telegram crawl interrupted at any page', () => {
  it('ends, once re-run, with the mentions of a clean crawl and nothing twice', async () => {
    const pages: Record<string, string> = {
      '-': channelPage([71000, 71006, 71007, 71008], 71000),
      '71000': channelPage([70996, 70997, 70998, 70999], 70996),
      '70996': channelPage([70989, 70990, 70992, 70995], null),
    };
    const report = await expectResumableCrawl({
      source: 'telegram',
      params: (server) => ({ channel: 'topwar_official', baseUrl: server.url }),
      keywords: ['Пулково', 'Вагнер', 'Калибр', 'Туапсе'],
      serve: (onPage) => {
        const reply: FixtureHandler = (req, res) => {
          onPage();
          const before = new URL(req.url ?? '/', 'http://fixture.invalid').searchParams.get('before') ?? '-';
          const body = pages[before];
          if (body === undefined) res.writeHead(404).end();
          else res.writeHead(200, html).end(body);
        };
        const routes: FixtureRoutes = { '/s/topwar_official': reply };
        return startFixtureServer(routes);
      },
    });
    expect(report).toMatchObject({ pages: 3, mentions: 5 });
  });
});
