import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../bin/cli.ts';
import { captureOutput } from './helpers/capture-output.ts';

// `earshot parse` in-process: the same command as the binary, without a process start per file.
const output = captureOutput();

const fixture = (source: string, name: string) => new URL(`../crawlers/${source}/fixtures/${name}`, import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'earshot-parse-'));
function scratchFile(name: string, body: string): string {
  const file = join(scratch, name);
  writeFileSync(file, body);
  return file;
}

async function parse(source: string, file: string) {
  const code = await main(['parse', source, file], {});
  const mentions = output.stdout.trim() === '' ? [] : output.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  return { code, mentions, stderr: output.stderr };
}

const REVIEW_SOURCES = new Set(['2gis', 'google-play', 'app-store']);

// One recording per source (the 2GIS reviews API has no public recording: its constructed page stands in).
const recordings: [source: string, file: string, count: number][] = [
  ['2gis', 'constructed-reviews-page-1.json', 5],
  ['google-play', 'translate-newest-page1.txt', 150],
  ['google-play', 'twitter-relevant-2021.txt', 40],
  ['telegram', 'channel-topwar-official.html', 12],
  ['vk', 'vknet_NewsFeed_Search_NextFrom_NotNull.json', 3],
  ['vk', 'vknet_Wall_GetComments_ReturnLikesAndAttachments.json', 2],
  ['reddit', 'search-r-all-2016.json', 6],
  ['reddit', 'home-2016.atom', 24],
  ['app-store', 'customerreviews-us-full.json', 50],
];

describe('earshot parse <source> <file>', () => {
  it.each(recordings)('%s %s: real mentions with stable ids, dates, authors and text', async (source, name, count) => {
    const { code, mentions } = await parse(source, fixture(source, name));
    expect(code).toBe(0);
    expect(mentions).toHaveLength(count);
    const ids = mentions.map((m) => m.externalId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of mentions) {
      expect(m.source).toBe(source);
      expect(m.externalId).toEqual(expect.stringMatching(/\S/));
      expect(typeof m.text).toBe('string');
      expect(`${m.title ?? ''}${m.text as string}`.trim()).not.toBe('');
      expect(m.publishedAt).toEqual(expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/));
      expect(m.author).toHaveProperty('name');
      if (REVIEW_SOURCES.has(source)) expect([1, 2, 3, 4, 5]).toContain(m.rating);
      else expect(m.rating).toBeNull();
    }
    // The same file parsed again gives the same ids: they are what dedupe and the stop rule rely on.
    output.stdout = '';
    expect((await parse(source, fixture(source, name))).mentions.map((m) => m.externalId)).toEqual(ids);
  });

  const empties: [source: string, body: string][] = [
    ['2gis', '{"meta":{"code":200,"total_count":0},"reviews":[]}'],
    ['google-play', ')]}\'\n\n[["wrb.fr","UsvDTd","[[],null]",null,null,null,"generic"]]'],
    ['telegram', '<html><body><section class="tgme_channel_history js-message_history"><div class="tme_no_messages_found">No posts found</div></section></body></html>'],
    ['vk', '{"response":{"count":0,"items":[],"profiles":[],"groups":[]}}'],
    ['reddit', '{"kind":"Listing","data":{"after":null,"children":[]}}'],
  ];
  it.each(empties)('%s: an empty page prints nothing and exits 0', async (source, body) => {
    const { code, mentions, stderr } = await parse(source, scratchFile(`empty-${source}.txt`, body));
    expect({ code, mentions, stderr }).toEqual({ code: 0, mentions: [], stderr: '' });
  });

  // A page of another source is a page of another shape.
  const others: [source: string, foreign: [string, string]][] = [
    ['2gis', ['reddit', 'search-r-all-2016.json']],
    ['google-play', ['vk', 'vknet_NewsFeed_Search_NextFrom_NotNull.json']],
    ['telegram', ['reddit', 'home-2016.atom']],
    ['vk', ['2gis', 'constructed-reviews-page-1.json']],
    ['reddit', ['google-play', 'twitter-relevant-2021.txt']],
  ];
  it.each(others)('%s: a page of another shape fails with SourceChangedError and exit 1', async (source, [from, name]) => {
    const { code, mentions, stderr } = await parse(source, fixture(from, name));
    expect(code).toBe(1);
    expect(mentions).toEqual([]);
    expect(stderr).toMatch(/^earshot: SourceChangedError: \S/);
  });
});
