import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../api/app.ts';
import { createBearer } from '../api/test-seed.ts';
import { main } from '../bin/cli.ts';
import { commandTrain } from '../bin/commands/sentiment.ts';
import type { MentionDraft } from '../crawlers/types.ts';
import { createBrandModels } from '../pipeline/brand-models.ts';
import { prepareMentions } from '../pipeline/ingest.ts';
import { predictText } from '../sentiment/analyze.ts';
import { isHeldOut, MIN_HELD_OUT } from '../sentiment/train/judge.ts';
import { readModelManifest } from '../sentiment/train/manifest.ts';
import { upsertBrand } from '../store/brands.ts';
import type { Store } from '../store/connect.ts';
import { correctSentiment } from '../store/corrections.ts';
import { upsertMentions } from '../store/mentions.ts';
import { latestBrandSentimentModels } from '../store/sentiment-models.ts';
import { captureOutput } from './helpers/capture-output.ts';
import { testCommandContext } from './helpers/command-context.ts';
import { createTestStore } from './helpers/test-store.ts';

// Every path the product hands to node:fs in this file, to show that training never looks in ../shared.
const opened = vi.hoisted(() => [] as string[]);
const recordPaths = vi.hoisted(() => async (fs: Record<string, unknown>, names: string[]) => {
  const { fileURLToPath } = await import('node:url');
  const wrapped: Record<string, unknown> = { ...fs };
  for (const name of names) {
    const original = fs[name] as ((...args: unknown[]) => unknown) | undefined;
    if (typeof original !== 'function') continue;
    wrapped[name] = (...args: unknown[]) => {
      const path = args[0];
      if (typeof path === 'string') opened.push(path);
      else if (path instanceof URL) opened.push(fileURLToPath(path));
      return original(...args);
    };
  }
  return { ...wrapped, default: wrapped };
});
vi.mock('node:fs', async (importOriginal) =>
  recordPaths(await importOriginal(), ['existsSync', 'readFileSync', 'openSync', 'statSync', 'lstatSync', 'readdirSync', 'accessSync', 'createReadStream', 'open', 'readFile', 'stat', 'access', 'readdir']));
vi.mock('node:fs/promises', async (importOriginal) => recordPaths(await importOriginal(), ['open', 'readFile', 'stat', 'access', 'readdir', 'opendir']));

const output = captureOutput();
const lines = () => output.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const SHARED = resolve(fileURLToPath(new URL('../../shared/', import.meta.url)));

// Our own made-up texts. Streets and house numbers vary them, so the held-out ones are new to the candidate.
const streets = ['Абая', 'Сейфуллина', 'Толе би', 'Жандосова', 'Розыбакиева', 'Гагарина', 'Назарбаева', 'Фурманова', 'Кабанбай батыра', 'Саина', 'Утепова', 'Достык'];
const street = (i: number) => `${streets[i % streets.length]}, дом ${i + 1}`;

describe('earshot train --from-corrections, judged on the brand\'s own corrections', () => {
  let store: Store;
  let scratch: string;
  const now = new Date('2026-11-20T10:00:00Z');

  beforeAll(async () => {
    store = await createTestStore();
    scratch = mkdtempSync(join(tmpdir(), 'earshot-train-'));
  });
  afterAll(() => store.close());

  // A user's installation: no data folder set; the command runs from a directory of its own.
  const train = (args: string[]) => {
    vi.stubEnv('EARSHOT_SENTIMENT_DATA', undefined);
    return commandTrain(['--from-corrections', ...args], { ...testCommandContext({ store, now: () => now }), cwd: scratch });
  };
  const liveModel = async (brandId: number, lang = 'ru' as const) => (await createBrandModels().forBrand(store.db, brandId)).get(lang)!;

  const draft = (externalId: string, text: string): MentionDraft => ({
    source: 'rss', externalId, url: null, author: { name: 'someone' }, text, title: null, rating: null,
    publishedAt: now.toISOString(), lang: null, metrics: {}, reply: null, parentExternalId: null,
  });

  /** Stores mentions of the brand, `textOf(i)` for i from `from`, and returns their ids. */
  async function storeMentions(brand: string, textOf: (i: number) => string, from: number, count: number) {
    const { id: brandId } = await upsertBrand(store.db, { name: brand, keywords: [brand] }, now);
    const drafts = Array.from({ length: count }, (_, k) => draft(`${brand}-${from + k}`, textOf(from + k)));
    const rows = prepareMentions(drafts, { brands: [{ id: brandId, matcher: null }], targetId: null }, now).rows;
    return { brandId, ids: (await upsertMentions(store.db, rows)).map((m) => m.id) };
  }

  /** Stores mentions ten at a time until `enough(ids)`; the split hangs on the ids the database gives. */
  async function storeUntil(brand: string, textOf: (i: number) => string, enough: (ids: string[]) => boolean, step = 10) {
    const ids: string[] = [];
    let brandId = 0;
    while (!enough(ids)) {
      const stored = await storeMentions(brand, textOf, ids.length, step);
      brandId = stored.brandId;
      ids.push(...stored.ids);
      if (ids.length > 300) throw new Error('the split never gave enough');
    }
    return { brandId, ids };
  }

  async function correct(ids: readonly string[], labelOf: (id: string) => 'negative' | 'positive' | 'neutral') {
    for (const id of ids) await correctSentiment(store.db, { mentionId: id, label: labelOf(id), actor: 'olga', now });
  }
  const heldOutOf = (ids: readonly string[]) => ids.filter(isHeldOut);

  let romashka: number;
  it('trains a brand with enough corrections, judges it against the live model on the held-out ones and stores its numbers', async () => {
    // The brand's own complaint the shipped model reads as neutral: a courier leaving parcels at the door.
    const stored = await storeUntil('Ромашка', (i) => `Курьер Ромашки оставил пакет у двери на ${street(i)}`, (ids) => heldOutOf(ids).length >= MIN_HELD_OUT + 1);
    romashka = stored.brandId;
    await correct(stored.ids, () => 'negative');
    const probe = 'Курьер Ромашки оставил пакет у двери на Момышулы';
    expect(predictText(probe, await liveModel(romashka)).label).not.toBe('negative');

    expect(await train(['--brand', 'Ромашка'])).toBe(0);
    const [line] = lines();
    const heldOut = heldOutOf(stored.ids).length;
    expect(line).toEqual({
      brand: 'Ромашка', lang: 'ru', corrections: stored.ids.length, trained_on: stored.ids.length - heldOut,
      model: { live: 'ru-v1', candidate: `ru-v1+b${romashka}.1` },
      held_out: {
        n: heldOut,
        live: { accuracy: expect.any(Number), macro_f1: expect.any(Number) },
        candidate: { accuracy: expect.any(Number), macro_f1: expect.any(Number) },
      },
      judged_on: 'held_out_corrections', decision: 'saved', version: 1,
    });
    expect(line!.held_out.candidate.accuracy).toBeGreaterThan(line!.held_out.live.accuracy);
    expect(line!.held_out.candidate.macro_f1).toBeGreaterThan(line!.held_out.live.macro_f1);

    const [row] = await latestBrandSentimentModels(store.db, romashka);
    expect(row).toMatchObject({
      version: 1, model_name: `ru-v1+b${romashka}.1`, corrections: stored.ids.length - heldOut, dev_before: null, dev_after: null,
      measured_on: 'held_out_corrections', measured_size: heldOut,
      measured_accuracy: line!.held_out.candidate.accuracy, measured_macro_f1: line!.held_out.candidate.macro_f1,
      live_model: 'ru-v1', live_accuracy: line!.held_out.live.accuracy, live_macro_f1: line!.held_out.live.macro_f1,
      created_at: now,
    });

    // Crawls now score the brand with it.
    const model = await liveModel(romashka);
    expect(model.name).toBe(`ru-v1+b${romashka}.1`);
    expect(predictText(probe, model).label).toBe('negative');
    expect((await createBrandModels().forBrand(store.db, romashka)).get('kk')!.name).toBe('kk-v2');
  });

  it("judges the next candidate against the brand's adapted model, the one live now", async () => {
    const more = await storeMentions('Ромашка', (i) => `Курьер Ромашки бросил коробку у подъезда на ${street(i)}`, 100, 10);
    await correct(more.ids, () => 'negative');
    expect(await train(['--brand', 'Ромашка'])).toBe(0);
    const [line] = lines();
    expect(line).toMatchObject({ model: { live: `ru-v1+b${romashka}.1`, candidate: `ru-v1+b${romashka}.2` }, decision: 'saved', version: 2 });
    const [row] = await latestBrandSentimentModels(store.db, romashka);
    expect(row).toMatchObject({ version: 2, live_model: `ru-v1+b${romashka}.1`, live_accuracy: line!.held_out.live.accuracy });
  });

  it('refuses a candidate worse on the held-out corrections, prints both numbers of both models, and keeps the live one', async () => {
    // Praise people marked negative, except the held-out ones, marked positive as the shipped model reads them:
    // learning the rest makes the candidate wrong exactly where it is judged.
    const praise = ['Отличный сервис у Лютика, спасибо', 'Очень довольна Лютиком, всё быстро', 'Лютик лучший, рекомендую всем', 'Прекрасная доставка Лютика, спасибо большое'];
    const stored = await storeUntil('Лютик', (i) => `${praise[i % praise.length]}, ${street(i)}`, (ids) => heldOutOf(ids).length >= MIN_HELD_OUT + 1);
    await correct(stored.ids, (id) => (isHeldOut(id) ? 'positive' : 'negative'));

    expect(await train(['--brand', 'Лютик'])).toBe(0);
    const [line] = lines();
    expect(line).toMatchObject({ brand: 'Лютик', lang: 'ru', model: { live: 'ru-v1' }, judged_on: null, decision: 'refused' });
    const { live, candidate } = line!.held_out;
    expect(Object.keys(live).sort()).toEqual(['accuracy', 'macro_f1']);
    expect(candidate.accuracy).toBeLessThan(live.accuracy);
    expect(line!.reason).toBe(
      `worse than ru-v1 on the held-out corrections (${line!.held_out.n}): macro-F1 ${candidate.macro_f1} vs ${live.macro_f1}, ` +
        `accuracy ${candidate.accuracy} vs ${live.accuracy}; ru-v1 stays`,
    );
    // --force is for too little evidence, never for a measured loss.
    expect(await train(['--brand', 'Лютик', '--force'])).toBe(0);
    expect(lines()[1]).toMatchObject({ decision: 'refused' });
    expect(await latestBrandSentimentModels(store.db, stored.brandId)).toEqual([]);
    expect((await liveModel(stored.brandId)).name).toBe('ru-v1');
  });

  it('with too few held-out corrections says so and keeps the live model; --force saves it anyway', async () => {
    const stored = await storeUntil('Василёк', (i) => `Курьер Василька опоздал на два часа, ${street(i)}`, (ids) => ids.length - heldOutOf(ids).length >= 6, 1);
    const heldOut = heldOutOf(stored.ids).length;
    expect(heldOut).toBeLessThan(MIN_HELD_OUT);
    await correct(stored.ids, () => 'negative');

    expect(await train(['--brand', 'Василёк'])).toBe(0);
    expect(lines()[0]).toMatchObject({
      brand: 'Василёк', held_out: { n: heldOut }, judged_on: null, decision: 'refused',
      reason: `${heldOut} held-out corrections, ${MIN_HELD_OUT} needed to judge the candidate against ru-v1: ru-v1 stays. ` +
        "Correct more of this language's mentions, give --dev FILE.jsonl, or pass --force to save it unjudged",
    });
    expect(await latestBrandSentimentModels(store.db, stored.brandId)).toEqual([]);

    expect(await train(['--brand', 'Василёк', '--force', '--dry-run'])).toBe(0);
    expect(lines()[1]).toMatchObject({ decision: 'dry-run', forced: true });
    expect(await latestBrandSentimentModels(store.db, stored.brandId)).toEqual([]);

    expect(await train(['--brand', 'Василёк', '--force'])).toBe(0);
    expect(lines()[2]).toMatchObject({ decision: 'saved', forced: true, judged_on: null, version: 1, reason: expect.stringMatching(/saved anyway \(--force\)$/) });
    const [row] = await latestBrandSentimentModels(store.db, stored.brandId);
    // What it was measured at is kept as it was, however little: or nothing, when nothing was held out.
    expect(row).toMatchObject(heldOut === 0
      ? { measured_on: null, measured_size: null, live_model: null }
      : { measured_on: 'held_out_corrections', measured_size: heldOut, live_model: 'ru-v1' });
  });

  it('waits for enough corrections to learn from', async () => {
    const stored = await storeMentions('Ландыш', (i) => `Курьер Ландыша нагрубил, ${street(i)}`, 0, 2);
    await correct(stored.ids, () => 'negative');
    expect(await train(['--brand', 'Ландыш'])).toBe(0);
    const trainedOn = 2 - heldOutOf(stored.ids).length;
    expect(lines()[0]).toMatchObject({ decision: 'skipped', reason: `${trainedOn} corrections to learn from, need 5` });
  });

  let devFile: string;
  it('judges on a dev file only when one is given (--dev), resolved from the caller\'s directory', async () => {
    const stored = await storeUntil('Клевер', (i) => `Курьер Клевера оставил заказ у соседей на ${street(i)}`, (ids) => ids.length - heldOutOf(ids).length >= 6, 1);
    expect(heldOutOf(stored.ids).length).toBeLessThan(MIN_HELD_OUT);
    await correct(stored.ids, () => 'negative');
    // Not named dev-<lang>.jsonl: its language is the one most of its texts are in.
    devFile = join(scratch, 'clover-checks.jsonl');
    writeFileSync(devFile, jsonl([
      ...['Курьер Клевера оставил заказ у соседей на Момышулы', 'Курьер Клевера оставил заказ у соседей на Жибек жолы', 'Курьер Клевера оставил заказ у соседей на Байтурсынова'].map((text) => ({ text, label: 'negative' })),
      { text: 'Ужасное приложение, постоянно вылетает', label: 'negative' },
      { text: 'Отличный сервис, всё быстро доставили, спасибо!', label: 'positive' },
    ]));
    expect(await train(['--brand', 'Клевер', '--dev', 'clover-checks.jsonl'])).toBe(0);
    const [line] = lines();
    expect(line).toMatchObject({
      brand: 'Клевер', judged_on: 'dev_file', decision: 'saved',
      dev: { file: 'clover-checks.jsonl', n: 5, live: { accuracy: expect.any(Number) }, candidate: { accuracy: expect.any(Number) } },
    });
    const [row] = await latestBrandSentimentModels(store.db, stored.brandId);
    expect(row).toMatchObject({
      measured_on: 'dev_file', measured_size: 5, measured_accuracy: line!.dev.candidate.accuracy, live_accuracy: line!.dev.live.accuracy,
      dev_before: expect.closeTo(line!.dev.live.macro_f1, 4), dev_after: expect.closeTo(line!.dev.candidate.macro_f1, 4),
    });
  });

  it('rejects a --dev file it cannot use', async () => {
    expect(await main(['train', '--from-corrections', '--dev', join(scratch, 'missing.jsonl')], {})).toBe(2);
    expect(output.stderr).toMatch(/--dev .*missing.jsonl: no such file/);
  });

  it('needs --from-corrections', async () => {
    expect(await main(['train'], {})).toBe(2);
    expect(output.stderr).toMatch(/train needs --from-corrections/);
  });

  it('opens no file under ../shared: every brand trains from the store and the files it is given', async () => {
    opened.length = 0;
    expect(await train(['--dev', devFile, '--dry-run'])).toBe(0);
    expect(lines().map((l) => l.brand).sort()).toEqual(['Василёк', 'Клевер', 'Ландыш', 'Лютик', 'Ромашка']);
    // The recorder sees the product's reads (here the --dev file), and none under the developers' folder.
    expect(opened).toContain(devFile);
    expect(opened.filter((path) => resolve(path).startsWith(SHARED))).toEqual([]);
  });

  describe('GET /api/v1/models', () => {
    let app: FastifyInstance;
    beforeAll(async () => {
      app = await buildApp({ db: store.db, storeKind: store.kind, now: () => now });
    });
    afterAll(() => app.close());

    it('lists the shipped base model of each language, then each brand\'s adapted ones with what they were measured at', async () => {
      const res = await app.inject({ method: 'GET', url: '/api/v1/models', headers: await createBearer(store.db) });
      expect(res.statusCode).toBe(200);
      const { data } = res.json() as { data: Record<string, any>[] };
      const manifest = readModelManifest();
      expect(data.slice(0, 4)).toEqual(['ru', 'kk', 'uz', 'en'].map((lang) => ({
        brand: null, lang, version: manifest.get(lang)!.model, kind: 'base', trained_at: null, corrections_used: null,
        measured: {
          on: 'dev_file', size: manifest.get(lang)!.dev[0]!.n, accuracy: manifest.get(lang)!.dev[0]!.accuracy,
          macro_f1: manifest.get(lang)!.dev[0]!.macro_f1, live_before: null,
        },
      })));
      const adapted = data.slice(4);
      expect(adapted.map((m) => [m.brand, m.lang, m.kind])).toEqual([
        ['Василёк', 'ru', 'adapted'], ['Клевер', 'ru', 'adapted'], ['Ромашка', 'ru', 'adapted'],
      ]);
      const [row] = await latestBrandSentimentModels(store.db, romashka);
      expect(adapted[2]).toEqual({
        brand: 'Ромашка', lang: 'ru', version: `ru-v1+b${romashka}.2`, kind: 'adapted', trained_at: '2026-11-20T10:00:00.000Z',
        corrections_used: row!.corrections,
        measured: {
          on: 'held_out_corrections', size: row!.measured_size, accuracy: row!.measured_accuracy, macro_f1: row!.measured_macro_f1,
          live_before: { accuracy: row!.live_accuracy, macro_f1: row!.live_macro_f1 },
        },
      });
      expect(adapted[1]!.measured).toMatchObject({ on: 'dev_file', size: 5 });
    });

    it('needs a key', async () => {
      expect((await app.inject({ method: 'GET', url: '/api/v1/models' })).statusCode).toBe(401);
    });
  });
});
