import { load } from 'cheerio';
import type { CheerioAPI } from 'cheerio';
import { detectBlockPage } from '../block-page.ts';
import { BlockedError, SourceChangedError, TargetUnusableError } from '../errors.ts';
import type { MentionAuthor, MentionDetails, MentionDraft, ParseContext, ParsedPage, RawPage } from '../types.ts';
import { locatePage, nextStreamCursor, olderPageCursor } from './cursor.ts';
import { messageSchema } from './schema.ts';
import type { TelegramMessage } from './schema.ts';

// Elements found in a page; cheerio names their node type only through its own dependency.
type Selection = ReturnType<ReturnType<CheerioAPI['root']>['find']>;

// htmlparser2 in HTML mode: several times faster than parse5 on a 100 KB page, and t.me's markup is well formed.
const HTML_PARSER = { xml: { xmlMode: false } } as const;

/** Where each field of `messageSchema` is read in a message, to name the path of a changed shape. */
const FIELD_SELECTORS: Record<keyof TelegramMessage, string> = {
  post: '[data-post]',
  datetime: '.tgme_widget_message_date time[datetime]',
  text: '.tgme_widget_message_text',
  views: '.tgme_widget_message_views',
  ownerName: '.tgme_widget_message_owner_name',
  signature: '.tgme_widget_message_from_author',
  forwardedFrom: '.tgme_widget_message_forwarded_from',
  links: 'a[href]',
};

/**
 * Media a post may carry instead of text. A post with neither text nor one of these is a changed page (a
 * renamed text class would otherwise drop every post silently); with media only, it has nothing to match.
 */
const MEDIA_SELECTOR = [
  '.tgme_widget_message_photo_wrap',
  '.tgme_widget_message_video_player',
  '.tgme_widget_message_roundvideo_player',
  '.tgme_widget_message_grouped_wrap',
  '.tgme_widget_message_sticker_wrap',
  '.tgme_widget_message_sticker',
  '.tgme_widget_message_tgsticker',
  '.tgme_widget_message_videosticker',
  '.tgme_widget_message_voice',
  '.tgme_widget_message_document_wrap',
  '.tgme_widget_message_poll',
  '.tgme_widget_message_location_wrap',
  '.tgme_widget_message_contact',
  '.message_media_not_supported',
].join(',');

/** Parse one t.me/s/{channel} page (the channel, or one search in it). Pure: the stream comes from raw.cursor. */
export function parseChannelPage(raw: RawPage, _ctx: ParseContext): ParsedPage {
  const $ = load(raw.body, HTML_PARSER);
  const position = locatePage(raw.cursor, raw.url);
  const nextStream = nextStreamCursor(position);
  const withStream = (page: ParsedPage): ParsedPage => (nextStream === undefined ? page : { ...page, nextStreamCursor: nextStream });

  const messages = $('.tgme_widget_message');
  if (messages.length === 0) {
    explainPageWithoutMessages($, raw);
    return withStream({ mentions: [], nextCursor: null });
  }

  fixEscapedHyperlinks($);
  const channel = readChannelHeader($);
  const mentions: MentionDraft[] = [];
  messages.each((index, element) => {
    const message = $(element);
    // Service messages (pinned, photo changed) and the "no posts found" notice are not posts.
    if (message.is('.service_message') || message.find('.service_message, .tme_no_messages_found').length > 0) return;
    const post = message.attr('data-post');
    const where = post ? `.tgme_widget_message[data-post="${post}"]` : `.tgme_widget_message[${index}]`;
    const checked = messageSchema.safeParse(readMessage($, message));
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const key = issue?.path[0] as keyof TelegramMessage | undefined;
      const path = `${where} ${key ? FIELD_SELECTORS[key] : ''}`.trim();
      throw new SourceChangedError(`telegram page ${raw.url} changed at ${path}: ${issue?.message ?? 'invalid'}`, path);
    }
    if (checked.data.text === '') {
      if (message.find(MEDIA_SELECTOR).length === 0) {
        const path = `${where} ${FIELD_SELECTORS.text}`;
        throw new SourceChangedError(`telegram page ${raw.url} changed at ${path}: a post with neither text nor known media`, path);
      }
      // A sticker, a photo or a video without caption: no words a brand keyword could match.
      return;
    }
    mentions.push(mapMessage(checked.data, channel));
  });

  const before = readOlderBefore($, raw.url);
  if (before !== null && position.before !== null && before >= position.before) {
    const path = 'a.tme_messages_more[data-before]';
    throw new SourceChangedError(`telegram page ${raw.url} changed at ${path}: older page ${before} is not older than ${position.before}`, path);
  }
  return withStream({ mentions, nextCursor: before === null ? null : olderPageCursor(position, before) });
}

interface ChannelHeader {
  name: string | null;
  followers: number | null;
}

function readChannelHeader($: CheerioAPI): ChannelHeader {
  const name = $('.tgme_channel_info_header_title').first().text().trim() || $('.tgme_header_title').first().text().trim() || null;
  let followers: number | null = null;
  $('.tgme_channel_info_counter').each((_, element) => {
    const counter = $(element);
    if (/subscriber/i.test(counter.find('.counter_type').text())) followers = parseCount(counter.find('.counter_value').text());
  });
  return { name, followers };
}

/** The strings a message carries, before validation; absent parts stay undefined. */
function readMessage($: CheerioAPI, message: Selection): Record<keyof TelegramMessage, unknown> {
  const post = message.attr('data-post');
  const postChannel = post?.split('/')[0] ?? '';
  // The quoted message of a reply carries a text of its own; the post's text is the first one outside it.
  const textElement = message
    .find('.tgme_widget_message_text')
    .filter((_, element) => $(element).closest('.tgme_widget_message_reply').length === 0)
    .first();
  const text =
    (textElement.length > 0 ? readPlainText(textElement) : '') ||
    readTitles($, message.find('.tgme_widget_message_document_title')) ||
    readTitles($, message.find('.tgme_widget_message_poll_question'));
  const forwarded = message.find('.tgme_widget_message_forwarded_from').first();
  const forwardedName = forwarded.find('.tgme_widget_message_forwarded_from_name').first();
  // A hidden sender's name is a span without link; only a block without the name element is read whole.
  const forwardedHref = forwardedName.length > 0 ? forwardedName.attr('href') : forwarded.find('a[href]').first().attr('href');
  const links = [...textElement.find('a[href]').toArray(), ...message.find('a.tgme_widget_message_link_preview[href]').toArray()]
    .map((a) => absoluteLink($(a).attr('href'), postChannel))
    .filter((href): href is string => href !== null);
  return {
    post,
    datetime: message.find(FIELD_SELECTORS.datetime).first().attr('datetime'),
    text,
    views: optionalText(message.find('.tgme_widget_message_views').first()),
    ownerName: optionalText(message.find('.tgme_widget_message_owner_name').first()),
    signature: optionalText(message.find('.tgme_widget_message_from_author').first()),
    forwardedFrom:
      forwarded.length === 0
        ? undefined
        : {
            name: (forwardedName.length > 0 ? forwardedName.text() : forwarded.text().replace(/^\s*Forwarded from/i, '')).trim() || null,
            url: absoluteLink(forwardedHref, postChannel),
          },
    links: [...new Set(links)],
  };
}

function mapMessage(message: TelegramMessage, channel: ChannelHeader): MentionDraft {
  const [username = '', id = ''] = message.post.split('/');
  const author: MentionAuthor = {
    name: message.ownerName ?? channel.name ?? username,
    handle: username,
    url: `https://t.me/${username}`,
  };
  if (channel.followers !== null) author.followers = channel.followers;
  const details: MentionDetails = { place: username };
  if (message.signature) details.signature = message.signature;
  if (message.forwardedFrom) details.forwardedFrom = message.forwardedFrom;
  if (message.links.length > 0) details.links = message.links;
  const views = message.views === undefined ? null : parseCount(message.views);
  return {
    source: 'telegram',
    // Usernames are case-insensitive: one post keeps one id however a page spells its channel.
    externalId: `${username.toLowerCase()}/${id}`,
    url: `https://t.me/${username}/${id}`,
    author,
    title: null,
    text: message.text,
    rating: null,
    publishedAt: new Date(message.datetime).toISOString(),
    lang: null,
    metrics: views === null ? {} : { views },
    reply: null,
    parentExternalId: null,
    details,
  };
}

/**
 * Plain text of a message: its own line breaks are <br>, so whitespace in the markup (indentation, wrapped
 * source lines) is layout and collapses; entities are decoded by re-parsing; a blank line between paragraphs stays.
 */
function readPlainText(element: Selection): string {
  const marked = (element.html() ?? '')
    .replace(/\s+/g, ' ')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(?:div|p|blockquote|pre|li)>/gi, '$&\n');
  return load(marked, HTML_PARSER, false)
    .root()
    .text()
    .split('\n')
    .map((line) => line.replace(/[\s\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function readTitles($: CheerioAPI, elements: Selection): string {
  return elements
    .toArray()
    .map((element) => readPlainText($(element)))
    .filter((title) => title !== '')
    .join('\n');
}

function optionalText(element: Selection): string | undefined {
  if (element.length === 0) return undefined;
  const text = readPlainText(element);
  return text === '' ? undefined : text;
}

/**
 * Since April 2024 t.me/s escapes every '&' of a text link (the ones that pop up a confirmation, so carry
 * onclick) once too often: `href="...?a=1&amp;amp;b=2"`. Plain links are not affected.
 */
function fixEscapedHyperlinks($: CheerioAPI): void {
  $('a[onclick][href]').each((_, element) => {
    const link = $(element);
    link.attr('href', (link.attr('href') ?? '').replaceAll('&amp;', '&'));
  });
}

/** An absolute http(s) link; hashtag and cashtag links (`?q=%23tag`) are searches in the channel, not links. */
function absoluteLink(href: string | undefined, channel: string): string | null {
  if (!href || href.startsWith('?q=')) return null;
  try {
    const url = new URL(href, `https://t.me/s/${channel}`);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

/** "37.2K" views, "109K" subscribers, "1.5M"; null when the counter reads otherwise. */
function parseCount(value: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([KMB])?$/i.exec(value.trim());
  if (!match) return null;
  const scale = { K: 1e3, M: 1e6, B: 1e9 }[(match[2] ?? '').toUpperCase()] ?? 1;
  return Math.round(Number(match[1]) * scale);
}

/** Older messages are behind "before": the "load more" link at the top of the history, or `<link rel="prev">`. */
function readOlderBefore($: CheerioAPI, pageUrl: string): number | null {
  let value = $('a.tme_messages_more[data-before]').first().attr('data-before');
  if (value === undefined) {
    const prev = $('link[rel="prev"]').attr('href');
    if (prev !== undefined) {
      try {
        value = new URL(prev, 'https://t.me').searchParams.get('before') ?? undefined;
      } catch {
        value = undefined;
      }
    }
  }
  if (value === undefined) return null;
  if (!/^\d+$/.test(value) || Number(value) <= 0) {
    const path = 'a.tme_messages_more[data-before]';
    throw new SourceChangedError(`telegram page ${pageUrl} changed at ${path}: "${value}" is not a message id`, path);
  }
  return Number(value);
}

/**
 * A page without messages is one of four things: the notice that the channel or the search has no posts
 * (an empty result), a captcha, the plain t.me/{channel} page that t.me serves when a channel has no web
 * preview or does not exist (the target must change), or markup we no longer know.
 */
function explainPageWithoutMessages($: CheerioAPI, raw: RawPage): void {
  if ($('.tme_no_messages_found').length > 0) return;
  if ($('.tgme_channel_history').length > 0) {
    const path = '.tgme_channel_history .tgme_widget_message';
    throw new SourceChangedError(`telegram page ${raw.url} changed at ${path}: a message history with neither posts nor "no posts found"`, path);
  }
  const block = detectBlockPage(raw.body);
  if (block !== null) throw new BlockedError(`telegram page ${raw.url}: ${block}`);
  if ($('.tgme_page, .tgme_page_wrap').length > 0) throw new TargetUnusableError(describeNoPreview($, raw.url));
  const path = '.tgme_channel_history';
  throw new SourceChangedError(`telegram page ${raw.url} changed at ${path}: neither a message history nor a Telegram page`, path);
}

function describeNoPreview($: CheerioAPI, pageUrl: string): string {
  const channel = channelOfPage($, pageUrl);
  const title = $('.tgme_page_title').first().text().trim();
  const extra = $('.tgme_page_extra').first().text().replace(/\s+/g, ' ').trim();
  if (extra !== '') {
    const about = title === '' ? extra : `"${title}", ${extra}`;
    // t.me/s redirects to the plain page when the owner turned on "Restrict saving content" (DIYgod/RSSHub#15354),
    // and for channels Telegram restricts itself (RSSHub's Telegram docs).
    return (
      `channel ${channel} has no public web preview: t.me shows its plain page (${about}) instead of posts; ` +
      'Telegram hides the preview when the owner restricts saving content, and for some channels it restricts itself; ' +
      'earshot reads only the preview, so remove the target or change targets[].params.channel ' +
      '(for the brand\'s own channel, check whether "Restrict saving content" is on)'
    );
  }
  return `channel ${channel} has no public web preview: t.me knows no public channel by that name; check targets[].params.channel`;
}

function channelOfPage($: CheerioAPI, pageUrl: string): string {
  let fromUrl: string | undefined;
  try {
    fromUrl = /^\/(?:s\/)?([A-Za-z][A-Za-z0-9_]{3,31})\/?$/.exec(new URL(pageUrl).pathname)?.[1];
  } catch {
    fromUrl = undefined;
  }
  const fromPage = /domain=([A-Za-z0-9_]+)/.exec($('meta[property="al:android:url"]').attr('content') ?? '')?.[1];
  const name = fromUrl ?? fromPage;
  return name === undefined ? 'of this target' : `@${name}`;
}
