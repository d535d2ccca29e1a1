import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, problemText, type Schemas } from '../api.ts';
import { Link } from '../components/link.tsx';
import { defineText, useFormats, useLocale, useText, type Formats, type Translate } from '../i18n.tsx';
import { navigate, useLocation } from '../router.ts';
import './dashboard.css';

const TEXT = defineText(
  {
    title: 'Dashboard',
    loading: 'Loading…',
    failed: 'Could not load this part.',

    volume: 'Mentions over time',
    brand: 'Brand',
    allBrands: 'All brands',
    source: 'Source',
    allSources: 'All sources',
    period: 'Period',
    days: '{n} days',
    chartLabel: 'Mentions per day by tone, last {days} days: {total} in all, {negative} negative.',
    noVolume: 'No mentions in the last {days} days yet.',
    noVolumeFiltered: 'No mentions for this choice in the last {days} days.',
    wholePeriod: 'Last {days} days',
    readout: '{total} mentions: {negative} negative, {neutral} neutral, {positive} positive, {mixed} mixed',
    unscored: '; {n} not scored yet',
    hoverHint: 'Point at a day to see its numbers.',
    negative: 'Negative',
    neutral: 'Neutral',
    positive: 'Positive',
    mixed: 'Mixed',
    bySource: 'By source',
    bySourceCaption: 'Mentions per source over the last {days} days. The negative share is of the mentions with a tone.',
    mentions: 'Mentions',
    negativeShare: 'Negative share',
    total: 'Total',

    stories: 'Top stories this week',
    storiesNote: 'A story is several mentions saying the same thing, across sources.',
    noStories: 'No stories this week yet: none of this week’s mentions repeat one another.',
    story: 'Story',
    inWeek: 'This week',
    inAll: 'In all',
    sources: 'Sources',
    lastSeen: 'Last seen',

    responses: 'Response times',
    responsesNote: 'Tickets opened in the last 30 days. p50: half were faster; p90: nine in ten were.',
    byTeam: 'By team',
    bySourceRt: 'By source',
    team: 'Team',
    tickets: 'Tickets',
    toTicket: 'Published → ticket',
    toFirstResponse: 'Ticket → first response',
    unanswered: 'Still unanswered',
    toAnswer: 'Published → answered on the source',
    p50: 'p50',
    p90: 'p90',
    allTickets: 'All tickets',
    noTickets: 'No tickets in the last 30 days yet.',

    models: 'Sentiment models',
    modelsNote: 'The model that scores each brand’s mentions in each language, and how well it did on labelled texts.',
    noModels: 'No sentiment model is installed yet.',
    noAdapted: 'No brand has its own model yet: every brand is scored by the base model. earshot train --from-corrections builds one from your team’s corrections.',
    forBrand: 'Brand',
    everyOtherBrand: 'Every brand without its own',
    language: 'Language',
    model: 'Live model',
    kind_base: 'base',
    kind_adapted: 'adapted to the brand',
    trained: 'Trained',
    corrections: 'Corrections learned',
    measuredOn: 'Measured on',
    on_held_out_corrections: '{n} corrections kept out of training',
    on_dev_file: '{n} labelled texts',
    notMeasured: 'not measured',
    accuracy: 'Accuracy',
    macroF1: 'Macro-F1',
    before: 'Model it replaced',
    beforeLine: 'accuracy {accuracy}, macro-F1 {f1}',
  },
  {
    title: 'Обзор',
    loading: 'Загрузка…',
    failed: 'Не удалось загрузить этот раздел.',

    volume: 'Упоминания по дням',
    brand: 'Бренд',
    allBrands: 'Все бренды',
    source: 'Источник',
    allSources: 'Все источники',
    period: 'Период',
    days: '{n} дней',
    chartLabel: 'Упоминания по дням и тональности за {days} дней: всего {total}, негативных {negative}.',
    noVolume: 'За последние {days} дней упоминаний пока нет.',
    noVolumeFiltered: 'По этому выбору за последние {days} дней упоминаний нет.',
    wholePeriod: 'За {days} дней',
    readout: 'упоминаний {total}: негативных {negative}, нейтральных {neutral}, позитивных {positive}, смешанных {mixed}',
    unscored: '; ещё не оценено {n}',
    hoverHint: 'Наведите на день, чтобы увидеть его цифры.',
    negative: 'Негатив',
    neutral: 'Нейтрально',
    positive: 'Позитив',
    mixed: 'Смешанно',
    bySource: 'По источникам',
    bySourceCaption: 'Упоминания по источникам за последние {days} дней. Доля негатива считается от упоминаний с оценённой тональностью.',
    mentions: 'Упоминаний',
    negativeShare: 'Доля негатива',
    total: 'Всего',

    stories: 'Главные сюжеты недели',
    storiesNote: 'Сюжет — несколько упоминаний об одном и том же, в том числе из разных источников.',
    noStories: 'Сюжетов на этой неделе пока нет: упоминания недели не повторяют друг друга.',
    story: 'Сюжет',
    inWeek: 'За неделю',
    inAll: 'Всего',
    sources: 'Источники',
    lastSeen: 'Последнее',

    responses: 'Скорость реакции',
    responsesNote: 'Тикеты, открытые за последние 30 дней. p50 — половина быстрее; p90 — девять из десяти быстрее.',
    byTeam: 'По командам',
    bySourceRt: 'По источникам',
    team: 'Команда',
    tickets: 'Тикетов',
    toTicket: 'Публикация → тикет',
    toFirstResponse: 'Тикет → первый ответ',
    unanswered: 'Ещё без ответа',
    toAnswer: 'Публикация → ответ на площадке',
    p50: 'p50',
    p90: 'p90',
    allTickets: 'Все тикеты',
    noTickets: 'За последние 30 дней тикетов пока нет.',

    models: 'Модели тональности',
    modelsNote: 'Какая модель оценивает упоминания каждого бренда на каждом языке и как она справилась на размеченных текстах.',
    noModels: 'Ни одна модель тональности пока не установлена.',
    noAdapted: 'Своей модели пока нет ни у одного бренда: всех оценивает базовая. Команда earshot train --from-corrections обучит её на исправлениях вашей команды.',
    forBrand: 'Бренд',
    everyOtherBrand: 'Все бренды без своей модели',
    language: 'Язык',
    model: 'Рабочая модель',
    kind_base: 'базовая',
    kind_adapted: 'дообучена под бренд',
    trained: 'Обучена',
    corrections: 'Учтено исправлений',
    measuredOn: 'Проверена на',
    on_held_out_corrections: '{n} исправлениях, не вошедших в обучение',
    on_dev_file: '{n} размеченных текстах',
    notMeasured: 'не проверялась',
    accuracy: 'Точность',
    macroF1: 'Macro-F1',
    before: 'Прежняя модель',
    beforeLine: 'точность {accuracy}, macro-F1 {f1}',
  },
);

type T = Translate<keyof (typeof TEXT)['en']>;
/** What a successful GET answers. */
type Answer<F extends (...args: never[]) => Promise<{ data?: unknown }>> = NonNullable<Awaited<ReturnType<F>>['data']>;
type Load<V> = { kind: 'loading' } | { kind: 'failed'; message: string } | { kind: 'ready'; value: V };

const DAY_MS = 86_400_000;
const PERIODS = [7, 30, 90] as const;
const TONES = ['negative', 'neutral', 'positive', 'mixed'] as const;
type Tone = (typeof TONES)[number];

/** One GET, its answer kept until the inputs change; a late answer for old inputs is dropped. */
function useLoad<V>(load: () => Promise<{ data?: V; error?: unknown }>, deps: unknown[], failed: string): Load<V> {
  const [state, setState] = useState<Load<V>>({ kind: 'loading' });
  useEffect(() => {
    let live = true;
    setState({ kind: 'loading' });
    load().then(
      ({ data, error }) => {
        if (!live) return;
        setState(data !== undefined ? { kind: 'ready', value: data } : { kind: 'failed', message: problemText(error, failed) });
      },
      () => live && setState({ kind: 'failed', message: failed }),
    );
    return () => {
      live = false;
    };
  }, deps);
  return state;
}

function Loading<V>(props: { state: Load<V>; t: T; children: (value: V) => ComponentChildren }) {
  if (props.state.kind === 'loading') return <p class="muted">{props.t('loading')}</p>;
  if (props.state.kind === 'failed') return <p class="error">{props.state.message}</p>;
  return <>{props.children(props.state.value)}</>;
}

export function DashboardPage() {
  const t = useText(TEXT);
  return (
    <main class="page dashboard">
      <h1>{t('title')}</h1>
      <VolumeSection t={t} />
      <StoriesSection t={t} />
      <ResponseSection t={t} />
      <ModelsSection t={t} />
    </main>
  );
}

// ---- Mentions over time ---------------------------------------------------------------------------------------

const loadVolume = (days: number, tz: string) => api.GET('/api/v1/stats/mentions', { params: { query: { days, tz } } });
type Volume = Answer<typeof loadVolume>;
type Counts = Record<Tone, number> & { total: number };

const zero = (): Counts => ({ negative: 0, neutral: 0, positive: 0, mixed: 0, total: 0 });
function add(into: Counts, b: Counts): void {
  for (const k of TONES) into[k] += b[k];
  into.total += b.total;
}

function VolumeSection(props: { t: T }) {
  const { t } = props;
  const f = useFormats();
  const { timeZone } = useLocale();
  const loc = useLocation();
  const daysParam = Number(loc.query.get('days'));
  const days = (PERIODS as readonly number[]).includes(daysParam) ? daysParam : 30;
  const brand = loc.query.get('brand') ?? '';
  const source = loc.query.get('source') ?? '';

  // Every brand and source at once: the selectors list what the period has, the rest is picked here.
  const state = useLoad(() => loadVolume(days, timeZone), [days, timeZone], t('failed'));

  function choose(key: 'days' | 'brand' | 'source', value: string) {
    const q = new URLSearchParams(loc.query);
    if (value) q.set(key, value);
    else q.delete(key);
    if (key === 'brand') q.delete('source');
    const s = q.toString();
    navigate(`${loc.path}${s ? `?${s}` : ''}`, { replace: true });
  }

  const buckets = state.kind === 'ready' ? state.value.buckets : [];
  const brands = useMemo(() => withChosen([...new Set(buckets.map((b) => b.brand))], brand), [buckets, brand]);
  const sources = useMemo(
    () => withChosen([...new Set(buckets.filter((b) => !brand || b.brand === brand).map((b) => b.source))], source),
    [buckets, brand, source],
  );

  return (
    <section aria-labelledby="dash-volume" class="dash-section">
      <h2 id="dash-volume">{t('volume')}</h2>
      <div class="controls">
        <label>
          {t('brand')}
          <select value={brand} onChange={(e) => choose('brand', e.currentTarget.value)}>
            <option value="">{t('allBrands')}</option>
            {brands.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('source')}
          <select value={source} onChange={(e) => choose('source', e.currentTarget.value)}>
            <option value="">{t('allSources')}</option>
            {sources.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <div class="period" role="group" aria-label={t('period')}>
          {PERIODS.map((n) => (
            <button key={n} type="button" aria-pressed={n === days} onClick={() => choose('days', n === 30 ? '' : String(n))}>
              {t('days', { n })}
            </button>
          ))}
        </div>
      </div>
      <Loading state={state} t={t}>
        {(v) => <VolumeView volume={v} days={days} brand={brand} source={source} timeZone={timeZone} t={t} f={f} />}
      </Loading>
    </section>
  );
}

function withChosen(list: string[], chosen: string): string[] {
  if (chosen && !list.includes(chosen)) list.push(chosen);
  return list.sort((a, b) => a.localeCompare(b));
}

/** The local date (YYYY-MM-DD) of an instant in a time zone, to line the buckets up with the days. */
function dayKey(instant: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant);
}

function VolumeView(props: { volume: Volume; days: number; brand: string; source: string; timeZone: string; t: T; f: Formats }) {
  const { volume, days, brand, source, t, f } = props;
  const { perDay, labels, period, bySource } = useMemo(() => {
    const start = Date.parse(volume.from);
    const first = Date.parse(`${dayKey(start, props.timeZone)}T00:00:00Z`);
    const perDay = Array.from({ length: days }, zero);
    // Midday of each local day: a date to show, whatever daylight saving time did to the day's length.
    const labels = Array.from({ length: days }, (_, i) => f.date(new Date(start + (i + 0.5) * DAY_MS).toISOString()));
    const bySource = new Map<string, Counts>();
    const period = zero();
    for (const b of volume.buckets) {
      if (brand && b.brand !== brand) continue;
      const s = bySource.get(b.source) ?? zero();
      add(s, b);
      bySource.set(b.source, s);
      if (source && b.source !== source) continue;
      const i = Math.round((Date.parse(`${b.day}T00:00:00Z`) - first) / DAY_MS);
      const day = perDay[i];
      if (!day) continue;
      add(day, b);
      add(period, b);
    }
    return { perDay, labels, period, bySource: [...bySource].sort((a, b) => b[1].total - a[1].total || a[0].localeCompare(b[0])) };
  }, [volume, days, brand, source, props.timeZone, f]);

  if (volume.buckets.length === 0) return <p class="muted">{t('noVolume', { days })}</p>;
  return (
    <>
      {period.total === 0 ? (
        <p class="muted">{t('noVolumeFiltered', { days })}</p>
      ) : (
        <VolumeChart perDay={perDay} labels={labels} period={period} days={days} t={t} f={f} />
      )}
      {bySource.length > 0 && <SourceTable rows={bySource} days={days} t={t} f={f} />}
    </>
  );
}

function readout(c: Counts, t: T): string {
  const scored = c.negative + c.neutral + c.positive + c.mixed;
  return t('readout', { ...c }) + (c.total > scored ? t('unscored', { n: c.total - scored }) : '');
}

function cssColor(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

const Y_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 20_000, 50_000, 100_000, 250_000, 500_000, 1_000_000];

function VolumeChart(props: { perDay: Counts[]; labels: string[]; period: Counts; days: number; t: T; f: Formats }) {
  const { perDay, labels, t, f } = props;
  const box = useRef<HTMLDivElement>(null);
  const [hover, setHover] = useState<number | null>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const n = perDay.length;
    // Stacked by drawing each tone's bar from zero to its running sum, top of the stack first: negative sits at
    // the bottom, where a change in it is easiest to read.
    const stack: Tone[] = ['mixed', 'positive', 'neutral', 'negative'];
    const running = perDay.map((d) => {
      const sums: Record<Tone, number> = { negative: d.negative, neutral: 0, positive: 0, mixed: 0 };
      sums.neutral = sums.negative + d.neutral;
      sums.positive = sums.neutral + d.positive;
      sums.mixed = sums.positive + d.mixed;
      return sums;
    });
    const data: uPlot.AlignedData = [perDay.map((_, i) => i), ...stack.map((tone) => running.map((r) => r[tone]))];
    const colors: Record<Tone, string> = {
      negative: cssColor('--neg', '#b42318'),
      neutral: cssColor('--neu', '#57606a'),
      positive: cssColor('--pos', '#1a7f37'),
      mixed: cssColor('--mixed', '#8a5a00'),
    };
    const text = cssColor('--text', '#1b1f24');
    const line = cssColor('--line', '#d8dee4');
    const panel = cssColor('--panel', '#ffffff');
    const bars = uPlot.paths.bars!({ size: [0.8, 48], gap: 1 });
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: 260,
      legend: { show: false },
      cursor: { points: { show: false }, drag: { x: false, y: false, setScale: false } },
      scales: {
        x: { time: false, range: [-0.5, n - 0.5] },
        y: { range: (_u, _min, max) => [0, Math.max(4, max * 1.05)] },
      },
      axes: [
        {
          stroke: text,
          grid: { show: false },
          ticks: { stroke: line },
          space: 110,
          incrs: [1, 2, 3, 7, 14, 30],
          values: (_u, splits) => splits.map((i) => (Number.isInteger(i) ? (labels[i] ?? '') : '')),
        },
        {
          stroke: text,
          grid: { stroke: line, width: 1 },
          ticks: { stroke: line },
          incrs: Y_INCRS,
          values: (_u, splits) => splits.map((v) => f.number(v)),
          size: 56,
        },
      ],
      series: [
        {},
        ...stack.map((tone) => ({ label: t(tone), fill: colors[tone], stroke: panel, width: 1, paths: bars, points: { show: false } })),
      ],
      hooks: { setCursor: [(u: uPlot) => setHover(u.cursor.idx ?? null)] },
    };
    const chart = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(280, el.clientWidth), height: 260 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [perDay, labels, t, f]);

  const shown = hover !== null && perDay[hover] ? perDay[hover] : null;
  return (
    <figure class="volume-chart">
      <div ref={box} class="chart-box" role="img" aria-label={t('chartLabel', { days: props.days, total: props.period.total, negative: props.period.negative })} />
      <figcaption>
        <ul class="legend">
          {TONES.map((tone) => (
            <li key={tone}>
              <span class={`swatch ${tone}`} aria-hidden="true" />
              {t(tone)}
            </li>
          ))}
        </ul>
        <p class="readout">
          <strong>{shown ? labels[hover!] : t('wholePeriod', { days: props.days })}:</strong> {readout(shown ?? props.period, t)}
          {!shown && <span class="muted"> · {t('hoverHint')}</span>}
        </p>
      </figcaption>
    </figure>
  );
}

function share(c: Counts): number | null {
  const scored = c.negative + c.neutral + c.positive + c.mixed;
  return scored === 0 ? null : c.negative / scored;
}

function SourceTable(props: { rows: [string, Counts][]; days: number; t: T; f: Formats }) {
  const { rows, t, f } = props;
  const all = zero();
  for (const [, c] of rows) add(all, c);
  const pct = (c: Counts) => {
    const s = share(c);
    return s === null ? '—' : f.percent(s);
  };
  return (
    <div class="table-scroll" tabIndex={0}>
      <table class="by-source">
        <caption>
          <span class="caption-title">{t('bySource')}</span> <span class="muted">{t('bySourceCaption', { days: props.days })}</span>
        </caption>
        <thead>
          <tr>
            <th scope="col">{t('source')}</th>
            <th scope="col" class="num">
              {t('mentions')}
            </th>
            <th scope="col" class="num">
              {t('negative')}
            </th>
            <th scope="col" class="num">
              {t('positive')}
            </th>
            <th scope="col" class="num">
              {t('negativeShare')}
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([source, c]) => (
            <tr key={source}>
              <th scope="row">{source}</th>
              <td class="num">{f.number(c.total)}</td>
              <td class="num">{f.number(c.negative)}</td>
              <td class="num">{f.number(c.positive)}</td>
              <td class="num">{pct(c)}</td>
            </tr>
          ))}
        </tbody>
        {rows.length > 1 && (
          <tfoot>
            <tr>
              <th scope="row">{t('total')}</th>
              <td class="num">{f.number(all.total)}</td>
              <td class="num">{f.number(all.negative)}</td>
              <td class="num">{f.number(all.positive)}</td>
              <td class="num">{pct(all)}</td>
            </tr>
          </tfoot>
        )}
      </table>
    </div>
  );
}

// ---- Top stories ----------------------------------------------------------------------------------------------

const loadStories = (brand: string) =>
  api.GET('/api/v1/stats/stories', { params: { query: { days: 7, limit: 10, ...(brand ? { brand } : {}) } } });

function storyTitle(m: Schemas['Mention']): string {
  const text = (m.title?.trim() || m.text).replace(/\s+/g, ' ').trim();
  return text.length > 140 ? `${text.slice(0, 139)}…` : text || m.id;
}

function StoriesSection(props: { t: T }) {
  const { t } = props;
  const f = useFormats();
  const brand = useLocation().query.get('brand') ?? '';
  const state = useLoad(() => loadStories(brand), [brand], t('failed'));
  return (
    <section aria-labelledby="dash-stories" class="dash-section">
      <h2 id="dash-stories">
        {t('stories')}
        {brand && <span class="muted"> · {brand}</span>}
      </h2>
      <p class="muted">{t('storiesNote')}</p>
      <Loading state={state} t={t}>
        {(v) =>
          v.data.length === 0 ? (
            <p class="muted">{t('noStories')}</p>
          ) : (
            <div class="table-scroll" tabIndex={0}>
              <table class="stories">
                <thead>
                  <tr>
                    <th scope="col">{t('story')}</th>
                    <th scope="col" class="num">
                      {t('inWeek')}
                    </th>
                    <th scope="col" class="num">
                      {t('inAll')}
                    </th>
                    <th scope="col">{t('sources')}</th>
                    <th scope="col" class="num">
                      {t('negativeShare')}
                    </th>
                    <th scope="col">{t('lastSeen')}</th>
                  </tr>
                </thead>
                <tbody>
                  {v.data.map((s) => (
                    <tr key={s.cluster_id}>
                      <td class="story-title">
                        <Link href={`/mentions/${encodeURIComponent(s.representative.id)}`}>{storyTitle(s.representative)}</Link>
                        <div class="muted small">{s.representative.brand}</div>
                      </td>
                      <td class="num">{f.number(s.mentions_in_window)}</td>
                      <td class="num">{f.number(s.size)}</td>
                      <td>
                        <span class="chips">
                          {s.sources.map((src) => (
                            <span key={src} class="chip">
                              {src}
                            </span>
                          ))}
                        </span>
                      </td>
                      <td class="num">
                        <span class={s.negative_share >= 0.5 ? 'chip negative' : undefined}>{f.percent(s.negative_share)}</span>
                      </td>
                      <td>
                        <time dateTime={s.last_seen_at} title={f.dateTime(s.last_seen_at)}>
                          {f.relative(s.last_seen_at)}
                        </time>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Loading>
    </section>
  );
}

// ---- Response times -------------------------------------------------------------------------------------------

const loadResponseTimes = (by: 'team' | 'source') => api.GET('/api/v1/stats/response-times', { params: { query: { by } } });
type ResponseTimes = Answer<typeof loadResponseTimes>;
type Figures = ResponseTimes['total'];
type Duration = Figures['publish_to_ticket'];

function ResponseSection(props: { t: T }) {
  const { t } = props;
  const byTeam = useLoad(() => loadResponseTimes('team'), [], t('failed'));
  const bySource = useLoad(() => loadResponseTimes('source'), [], t('failed'));
  const empty = byTeam.kind === 'ready' && byTeam.value.total.tickets === 0;
  return (
    <section aria-labelledby="dash-responses" class="dash-section">
      <h2 id="dash-responses">{t('responses')}</h2>
      <p class="muted">{t('responsesNote')}</p>
      {empty ? (
        <p class="muted">{t('noTickets')}</p>
      ) : (
        <>
          <h3>{t('byTeam')}</h3>
          <Loading state={byTeam} t={t}>
            {(v) => <ResponseTable figures={v} keyLabel={t('team')} t={t} />}
          </Loading>
          <h3>{t('bySourceRt')}</h3>
          <Loading state={bySource} t={t}>
            {(v) => <ResponseTable figures={v} keyLabel={t('source')} t={t} />}
          </Loading>
        </>
      )}
    </section>
  );
}

function ResponseTable(props: { figures: ResponseTimes; keyLabel: string; t: T }) {
  const { figures, t } = props;
  const f = useFormats();
  const ms = (s: number | null) => (s === null ? null : s * 1000);
  const cells = (d: Duration) => (
    <>
      <td class="num">{f.duration(ms(d.p50_seconds))}</td>
      <td class="num">{f.duration(ms(d.p90_seconds))}</td>
    </>
  );
  const row = (key: string, x: Figures, head?: boolean) => (
    <tr key={key} class={head ? 'total' : undefined}>
      <th scope="row">{key}</th>
      <td class="num">{f.number(x.tickets)}</td>
      {cells(x.publish_to_ticket)}
      {cells(x.ticket_to_first_response)}
      <td class="num">{f.number(x.ticket_to_first_response.unanswered)}</td>
      {cells(x.publish_to_answer)}
    </tr>
  );
  if (figures.groups.length === 0) return <p class="muted">{t('noTickets')}</p>;
  return (
    <div class="table-scroll" tabIndex={0}>
      <table class="response-times">
        <thead>
          <tr>
            <th scope="col" rowSpan={2}>
              {props.keyLabel}
            </th>
            <th scope="col" rowSpan={2} class="num">
              {t('tickets')}
            </th>
            <th scope="colgroup" colSpan={2} class="group">
              {t('toTicket')}
            </th>
            <th scope="colgroup" colSpan={3} class="group">
              {t('toFirstResponse')}
            </th>
            <th scope="colgroup" colSpan={2} class="group">
              {t('toAnswer')}
            </th>
          </tr>
          <tr>
            <th scope="col" class="num">{t('p50')}</th>
            <th scope="col" class="num">{t('p90')}</th>
            <th scope="col" class="num">{t('p50')}</th>
            <th scope="col" class="num">{t('p90')}</th>
            <th scope="col" class="num">{t('unanswered')}</th>
            <th scope="col" class="num">{t('p50')}</th>
            <th scope="col" class="num">{t('p90')}</th>
          </tr>
        </thead>
        <tbody>{figures.groups.map((g) => row(g.key, g))}</tbody>
        {figures.groups.length > 1 && <tfoot>{row(t('allTickets'), figures.total, true)}</tfoot>}
      </table>
    </div>
  );
}

// ---- Sentiment models -----------------------------------------------------------------------------------------

function ModelsSection(props: { t: T }) {
  const { t } = props;
  const f = useFormats();
  const { locale } = useLocale();
  const state = useLoad(() => api.GET('/api/v1/models'), [], t('failed'));
  const languages = useMemo(() => {
    try {
      return new Intl.DisplayNames(locale, { type: 'language' });
    } catch {
      return null;
    }
  }, [locale]);
  const language = (code: string) => {
    const name = languages?.of(code) ?? code;
    return name.charAt(0).toLocaleUpperCase(locale) + name.slice(1);
  };
  // Accuracy as a share of texts; macro-F1 as the 0..1 figure it is usually quoted as.
  const accuracy = (x: number) => f.percent(x);
  const f1 = (x: number) => f.number(Math.round(x * 1000) / 1000);
  return (
    <section aria-labelledby="dash-models" class="dash-section">
      <h2 id="dash-models">{t('models')}</h2>
      <p class="muted">{t('modelsNote')}</p>
      <Loading state={state} t={t}>
        {(v) =>
          v.data.length === 0 ? (
            <p class="muted">{t('noModels')}</p>
          ) : (
            <>
              {!v.data.some((m) => m.kind === 'adapted') && <p>{t('noAdapted')}</p>}
              <div class="table-scroll" tabIndex={0}>
                <table class="models">
                  <thead>
                    <tr>
                      <th scope="col">{t('forBrand')}</th>
                      <th scope="col">{t('language')}</th>
                      <th scope="col">{t('model')}</th>
                      <th scope="col">{t('trained')}</th>
                      <th scope="col" class="num">
                        {t('corrections')}
                      </th>
                      <th scope="col">{t('measuredOn')}</th>
                      <th scope="col" class="num">
                        {t('accuracy')}
                      </th>
                      <th scope="col" class="num">
                        {t('macroF1')}
                      </th>
                      <th scope="col">{t('before')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {v.data.map((m) => (
                      <tr key={`${m.brand ?? ''}/${m.lang}`}>
                        <th scope="row">{m.brand ?? <span class="muted">{t('everyOtherBrand')}</span>}</th>
                        <td>{language(m.lang)}</td>
                        <td>
                          <code>{m.version}</code> <span class={`chip ${m.kind === 'adapted' ? 'positive' : ''}`}>{t(`kind_${m.kind}`)}</span>
                        </td>
                        <td>{m.trained_at ? f.date(m.trained_at) : '—'}</td>
                        <td class="num">{m.corrections_used === null ? '—' : f.number(m.corrections_used)}</td>
                        <td>{m.measured ? t(`on_${m.measured.on}`, { n: m.measured.size }) : <span class="muted">{t('notMeasured')}</span>}</td>
                        <td class="num">{m.measured ? accuracy(m.measured.accuracy) : '—'}</td>
                        <td class="num">{m.measured ? f1(m.measured.macro_f1) : '—'}</td>
                        <td>
                          {m.measured?.live_before
                            ? t('beforeLine', { accuracy: accuracy(m.measured.live_before.accuracy), f1: f1(m.measured.live_before.macro_f1) })
                            : '—'}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )
        }
      </Loading>
    </section>
  );
}
