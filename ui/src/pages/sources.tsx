import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, problemText, type Schemas } from '../api.ts';
import { defineText, useFormats, useText, type Formats, type Translate } from '../i18n.tsx';
import './sources.css';

const TEXT = defineText(
  {
    title: 'Sources',
    loading: 'Loading…',
    loadFailed: 'Could not load the targets.',
    noTargets: 'No targets yet. Add them under targets: in the config file and restart earshot.',
    attention: 'Needs attention',
    allGood: 'Every target is working.',
    working: 'Working',
    nothingWorking: 'No target is working right now.',
    target: 'Target',
    source: 'Source',
    brands: 'Brands',
    state: 'State',
    whatToDo: 'What to do:',
    lastError: 'Last error',
    lastSuccess: 'Last success',
    never: 'never',
    newestMention: 'Newest mention',
    noMentionYet: 'none yet',
    silence: 'Silence',
    silenceLine: 'quiet for {quiet}; expected within {expected}',
    nextRun: 'Next run',
    notScheduled: 'not scheduled',
    mentions24h: 'New in 24 h',
    skipped: 'Skipped runs',
    skippedLine: '{n}, the last one {when}',
    lastRun: 'Last run',
    lastRunLine: '{status} {when}: fetched {fetched}, new {new}',
    errorsInRow_one: '{n} failed crawl in a row.',
    errorsInRow_few: '{n} failed crawls in a row.',
    errorsInRow_many: '{n} failed crawls in a row.',
    errorsInRow_other: '{n} failed crawls in a row.',
    schedule: 'Schedule',

    chip_needs_action: 'needs action',
    chip_blocked: 'blocked',
    chip_credentials: 'waiting for credentials',
    chip_degraded: 'failing',
    chip_silent: 'silent',
    chip_lagging: 'falling behind',
    chip_ok: 'working',
    chip_off: 'turned off',

    what_needs_action: 'The target or the source has changed, so earshot cannot read it: a channel without a web preview, an id the source does not know, or pages of another shape.',
    next_needs_action: 'Check the target in the config (its id, link or parameters). If the target is right, the source changed its pages: update earshot.',
    what_blocked: 'The source blocked earshot: a captcha, a 403 or a block page.',
    next_blocked: 'Crawl it less often (a sparser schedule in the config) or from another network address. The next successful crawl clears this.',
    what_credentials: 'The source needs credentials that the config does not have, so the target is never crawled.',
    next_credentials: 'Add them under credentials: in the config file and restart earshot; it crawls the target at once.',
    what_degraded: 'Recent crawls failed (the source was down, timed out or asked to slow down). earshot keeps retrying with growing pauses.',
    next_degraded: 'Usually nothing: it recovers by itself. If failures keep piling up, check that the server can reach the source.',
    what_silent: 'Crawls succeed, but nothing new has come for longer than usual.',
    next_silent: 'Open the source and see whether there really is nothing new. If there is, check the target’s id, link or query.',
    what_lagging: 'Some scheduled runs were skipped: the previous crawl was still queued or running. The workers do not keep up with its schedule.',
    next_lagging: 'Give it a sparser schedule, or run more workers.',
    what_ok: 'Working.',
    next_ok: '',
    what_off: 'Turned off in the config, or removed from it.',
    next_off: 'To crawl it again, set enabled: true in the config and restart earshot.',
    alsoSilent: 'Also: nothing new for longer than usual.',
    alsoLagging: 'Also: some scheduled runs were skipped because the previous crawl had not finished.',

    run_running: 'Running, started',
    offNote: 'Targets turned off are off in the config or gone from it. To crawl one again, set enabled: true for it and restart earshot.',
    run_ok: 'Succeeded',
    run_failed: 'Failed',
    run_interrupted: 'Interrupted',

    editor: 'Brand query',
    editorNote: 'Try a query on the brand’s most recent mentions. Nothing is saved here: the query lives in the config file (query: under the brand). Paste the one that works there and restart earshot.',
    brand: 'Brand',
    noBrands: 'There are no brands to try a query on yet.',
    query: 'Query',
    queryHelp: 'Words match in any form; "exact phrases", prefix*, AND, OR, NOT or -word, NEAR/5 and ( ) work too.',
    typeQuery: 'Type a query to see what it matches.',
    checking: 'Checking…',
    previewFailed: 'Could not try the query.',
    syntaxError: 'The query has an error at line {line}, column {column}:',
    syntaxErrorPlain: 'The query has an error:',
    goToError: 'Go to the error',
    matched: 'Matches {matched} of the {scanned} newest mentions.',
    showing: 'The first {n} are shown.',
    noMatches: 'Matches none of the {scanned} newest mentions.',
    noMentions: 'This brand has no stored mentions yet, so there is nothing to try the query on.',
    published: 'Published {when}',
    open: 'open the original',
  },
  {
    title: 'Источники',
    loading: 'Загрузка…',
    loadFailed: 'Не удалось загрузить цели.',
    noTargets: 'Целей пока нет. Добавьте их в раздел targets: файла конфигурации и перезапустите earshot.',
    attention: 'Требуют внимания',
    allGood: 'Все цели работают.',
    working: 'Работают',
    nothingWorking: 'Сейчас ни одна цель не работает.',
    target: 'Цель',
    source: 'Источник',
    brands: 'Бренды',
    state: 'Состояние',
    whatToDo: 'Что делать:',
    lastError: 'Последняя ошибка',
    lastSuccess: 'Последний успех',
    never: 'ни разу',
    newestMention: 'Последнее упоминание',
    noMentionYet: 'пока нет',
    silence: 'Тишина',
    silenceLine: 'ничего нового уже {quiet}; обычно не дольше {expected}',
    nextRun: 'Следующий запуск',
    notScheduled: 'не запланирован',
    mentions24h: 'Новых за 24 ч',
    skipped: 'Пропущено запусков',
    skippedLine: '{n}, последний — {when}',
    lastRun: 'Последний запуск',
    lastRunLine: '{status} {when}: получено {fetched}, новых {new}',
    errorsInRow_one: '{n} неудачный обход подряд.',
    errorsInRow_few: '{n} неудачных обхода подряд.',
    errorsInRow_many: '{n} неудачных обходов подряд.',
    errorsInRow_other: '{n} неудачного обхода подряд.',
    schedule: 'Расписание',

    chip_needs_action: 'нужно вмешаться',
    chip_blocked: 'заблокирована',
    chip_credentials: 'нет доступа',
    chip_degraded: 'сбои',
    chip_silent: 'тишина',
    chip_lagging: 'не успевает',
    chip_ok: 'работает',
    chip_off: 'выключена',

    what_needs_action: 'Цель или источник изменились, и earshot не может их прочитать: у канала нет веб-превью, источник не знает такой id или страницы стали другими.',
    next_needs_action: 'Проверьте цель в конфигурации (id, ссылку, параметры). Если с ней всё в порядке, значит, источник поменял страницы: обновите earshot.',
    what_blocked: 'Источник заблокировал earshot: капча, ошибка 403 или страница блокировки.',
    next_blocked: 'Обходите его реже (расписание пореже в конфигурации) или с другого сетевого адреса. Первый же удачный обход снимет блокировку.',
    what_credentials: 'Источнику нужны ключи доступа, которых нет в конфигурации, поэтому цель не обходится.',
    next_credentials: 'Добавьте их в раздел credentials: файла конфигурации и перезапустите earshot — цель будет обойдена сразу.',
    what_degraded: 'Последние обходы не удались: источник не отвечал, не успел ответить или попросил сбавить темп. earshot повторяет попытки со всё большими паузами.',
    next_degraded: 'Обычно ничего: всё восстановится само. Если сбои не прекращаются, проверьте, что сервер может достучаться до источника.',
    what_silent: 'Обходы проходят, но нового нет дольше обычного.',
    next_silent: 'Откройте источник и посмотрите, правда ли там ничего нового. Если новое есть, проверьте id, ссылку или запрос цели.',
    what_lagging: 'Часть запусков по расписанию пропущена: предыдущий обход ещё ждал в очереди или шёл. Обработчики не успевают за расписанием.',
    next_lagging: 'Сделайте расписание пореже или запустите больше обработчиков.',
    what_ok: 'Работает.',
    next_ok: '',
    what_off: 'Выключена в конфигурации или удалена из неё.',
    next_off: 'Чтобы снова обходить её, поставьте enabled: true в конфигурации и перезапустите earshot.',
    alsoSilent: 'Кроме того, нового нет дольше обычного.',
    alsoLagging: 'Кроме того, часть запусков пропущена: предыдущий обход не успевал закончиться.',

    run_running: 'Идёт, начат',
    offNote: 'Выключенные цели отключены в конфигурации или удалены из неё. Чтобы снова обходить цель, поставьте ей enabled: true и перезапустите earshot.',
    run_ok: 'Успешно',
    run_failed: 'Ошибка',
    run_interrupted: 'Прерван',

    editor: 'Запрос бренда',
    editorNote: 'Проверьте запрос на последних упоминаниях бренда. Здесь ничего не сохраняется: запрос хранится в файле конфигурации (query: у бренда). Перенесите туда удачный вариант и перезапустите earshot.',
    brand: 'Бренд',
    noBrands: 'Пока нет брендов, на которых можно проверить запрос.',
    query: 'Запрос',
    queryHelp: 'Слова находятся в любой форме; также работают "точные фразы", префикс*, AND, OR, NOT или -слово, NEAR/5 и скобки.',
    typeQuery: 'Введите запрос, чтобы увидеть, что он находит.',
    checking: 'Проверяем…',
    previewFailed: 'Не удалось проверить запрос.',
    syntaxError: 'В запросе ошибка: строка {line}, позиция {column}:',
    syntaxErrorPlain: 'В запросе ошибка:',
    goToError: 'Перейти к ошибке',
    matched: 'Подходит {matched} из {scanned} последних упоминаний.',
    showing: 'Показаны первые {n}.',
    noMatches: 'Не подходит ни одно из {scanned} последних упоминаний.',
    noMentions: 'У бренда пока нет сохранённых упоминаний — проверять запрос не на чем.',
    published: 'Опубликовано {when}',
    open: 'открыть оригинал',
  },
);

type T = Translate<keyof (typeof TEXT)['en']>;
type Target = Schemas['TargetHealth'];
type Condition = 'needs_action' | 'blocked' | 'credentials' | 'degraded' | 'silent' | 'lagging' | 'ok' | 'off';

const DAY_MS = 86_400_000;
// Worst first: what stops listening altogether, then what may, then what is merely worth a look.
const RANK: Record<Condition, number> = { needs_action: 0, blocked: 1, credentials: 2, degraded: 3, silent: 4, lagging: 5, ok: 6, off: 7 };

function conditionOf(t: Target): Condition {
  if (t.state === 'disabled') return t.enabled ? 'credentials' : 'off';
  if (t.state === 'needs_action' || t.state === 'blocked' || t.state === 'degraded') return t.state;
  if (t.silent) return 'silent';
  if (t.skipped_runs > 0) return 'lagging';
  return 'ok';
}

function time(iso: string | null | undefined): number {
  return iso ? Date.parse(iso) : -Infinity;
}

function worstFirst(a: Target, b: Target): number {
  return (
    RANK[conditionOf(a)] - RANK[conditionOf(b)] ||
    b.consecutive_errors - a.consecutive_errors ||
    time(a.last_success_at) - time(b.last_success_at) ||
    a.id.localeCompare(b.id)
  );
}

export function SourcesPage() {
  const t = useText(TEXT);
  const [targets, setTargets] = useState<Target[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    void api.GET('/api/v1/targets').then(({ data, error: problem }) => {
      if (!live) return;
      if (data) setTargets([...data.data].sort(worstFirst));
      else setError(problemText(problem, t('loadFailed')));
    });
    return () => {
      live = false;
    };
  }, []);

  const brands = useMemo(() => [...new Set((targets ?? []).flatMap((x) => x.brands))].sort((a, b) => a.localeCompare(b)), [targets]);
  const troubled = (targets ?? []).filter((x) => RANK[conditionOf(x)] < RANK.ok);
  const fine = (targets ?? []).filter((x) => RANK[conditionOf(x)] >= RANK.ok);

  return (
    <main class="page sources">
      <h1>{t('title')}</h1>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : targets === null ? (
        <p class="muted">{t('loading')}</p>
      ) : targets.length === 0 ? (
        <p class="muted">{t('noTargets')}</p>
      ) : (
        <>
          <section aria-labelledby="sources-attention">
            <h2 id="sources-attention">{t('attention')}</h2>
            {troubled.length === 0 ? <p class="muted">{t('allGood')}</p> : troubled.map((x) => <TargetCard key={x.id} target={x} t={t} />)}
          </section>
          <section aria-labelledby="sources-working">
            <h2 id="sources-working">{t('working')}</h2>
            {fine.length === 0 ? <p class="muted">{t('nothingWorking')}</p> : <TargetTable targets={fine} t={t} />}
            {fine.some((x) => conditionOf(x) === 'off') && (
              <p class="muted">
                {t('offNote')}
              </p>
            )}
          </section>
        </>
      )}
      <QueryEditor brands={brands} loaded={targets !== null} />
    </main>
  );
}

function TargetName(props: { target: Target }) {
  const x = props.target;
  return (
    <>
      <strong>{x.id}</strong> <span class="muted">· {x.source}</span>
    </>
  );
}

function When(props: { iso: string | null; f: Formats; empty: string }) {
  if (!props.iso) return <span class="muted">{props.empty}</span>;
  return (
    <time dateTime={props.iso} title={props.f.dateTime(props.iso)}>
      {props.f.relative(props.iso)}
    </time>
  );
}

function TargetCard(props: { target: Target; t: T }) {
  const { target: x, t } = props;
  const f = useFormats();
  const cond = conditionOf(x);
  const next = t(`next_${cond}`);
  const error = x.last_error ?? x.last_run?.error ?? null;
  const quietMs = x.last_mention_at ? Date.now() - Date.parse(x.last_mention_at) : null;
  return (
    <article class={`target-card ${cond}`} aria-labelledby={`target-${x.id}`}>
      <h3 id={`target-${x.id}`}>
        <TargetName target={x} /> <span class={`chip ${chipClass(cond)}`}>{t(`chip_${cond}`)}</span>
      </h3>
      <p>
        {t(`what_${cond}`)}
        {x.consecutive_errors > 0 && <> {t.n('errorsInRow', x.consecutive_errors)}</>}
      </p>
      {next && (
        <p>
          <strong>{t('whatToDo')}</strong> {next}
        </p>
      )}
      {cond !== 'silent' && x.silent && <p>{t('alsoSilent')}</p>}
      {cond !== 'lagging' && x.skipped_runs > 0 && cond !== 'off' && <p>{t('alsoLagging')}</p>}
      {error && (
        <p class="target-error">
          <span class="muted">{t('lastError')}: </span>
          <code>{error}</code>
        </p>
      )}
      <dl class="facts">
        <div>
          <dt>{t('brands')}</dt>
          <dd>{x.brands.join(', ')}</dd>
        </div>
        <div>
          <dt>{t('lastSuccess')}</dt>
          <dd>
            <When iso={x.last_success_at} f={f} empty={t('never')} />
          </dd>
        </div>
        <div>
          <dt>{t('newestMention')}</dt>
          <dd>
            <When iso={x.last_mention_at} f={f} empty={t('noMentionYet')} />
          </dd>
        </div>
        {x.silent && quietMs !== null && (
          <div>
            <dt>{t('silence')}</dt>
            <dd>{t('silenceLine', { quiet: f.duration(quietMs), expected: f.duration(x.expected_quiet_days * DAY_MS) })}</dd>
          </div>
        )}
        <div>
          <dt>{t('skipped')}</dt>
          <dd>{x.skipped_runs > 0 ? t('skippedLine', { n: x.skipped_runs, when: f.relative(x.last_skipped_at) }) : f.number(0)}</dd>
        </div>
        <div>
          <dt>{t('nextRun')}</dt>
          <dd>
            <When iso={x.next_run_at} f={f} empty={t('notScheduled')} />
          </dd>
        </div>
        <div>
          <dt>{t('mentions24h')}</dt>
          <dd>{f.number(x.mentions_24h)}</dd>
        </div>
        {x.last_run && (
          <div>
            <dt>{t('lastRun')}</dt>
            <dd>
              {t('lastRunLine', {
                status: t(`run_${x.last_run.status}`),
                when: f.relative(x.last_run.finished_at ?? x.last_run.started_at),
                fetched: x.last_run.fetched,
                new: x.last_run.new,
              })}
            </dd>
          </div>
        )}
        <div>
          <dt>{t('schedule')}</dt>
          <dd>
            <code>{x.schedule}</code>
          </dd>
        </div>
      </dl>
    </article>
  );
}

function chipClass(c: Condition): string {
  if (c === 'needs_action' || c === 'blocked' || c === 'credentials') return 'negative';
  if (c === 'degraded' || c === 'silent' || c === 'lagging') return 'mixed';
  if (c === 'ok') return 'positive';
  return '';
}

function TargetTable(props: { targets: Target[]; t: T }) {
  const { t } = props;
  const f = useFormats();
  return (
    <div class="table-scroll" tabIndex={0}>
      <table>
        <thead>
          <tr>
            <th scope="col">{t('target')}</th>
            <th scope="col">{t('brands')}</th>
            <th scope="col">{t('state')}</th>
            <th scope="col">{t('lastSuccess')}</th>
            <th scope="col">{t('newestMention')}</th>
            <th scope="col">{t('nextRun')}</th>
            <th scope="col" class="num">
              {t('mentions24h')}
            </th>
          </tr>
        </thead>
        <tbody>
          {props.targets.map((x) => {
            const cond = conditionOf(x);
            return (
              <tr key={x.id}>
                <th scope="row">
                  <TargetName target={x} />
                </th>
                <td>{x.brands.join(', ')}</td>
                <td>
                  <span class={`chip ${chipClass(cond)}`}>{t(`chip_${cond}`)}</span>
                </td>
                <td>
                  <When iso={x.last_success_at} f={f} empty={t('never')} />
                </td>
                <td>
                  <When iso={x.last_mention_at} f={f} empty={t('noMentionYet')} />
                </td>
                <td>
                  <When iso={x.next_run_at} f={f} empty={t('notScheduled')} />
                </td>
                <td class="num">{f.number(x.mentions_24h)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

// ---- Query editor with live preview -------------------------------------------------------------------------

type Preview = Schemas['QueryPreview'];
type Match = Schemas['QueryMatch'];
type PreviewState =
  | { kind: 'idle' }
  | { kind: 'busy' }
  | { kind: 'done'; preview: Preview }
  | { kind: 'syntax'; message: string; column: number | null }
  | { kind: 'failed'; message: string };

const DEBOUNCE_MS = 400;
const SNIPPET = 360;

/** Where a 1-based offset into the query falls: its line and column, both 1-based. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset - 1));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

function QueryEditor(props: { brands: string[]; loaded: boolean }) {
  const t = useText(TEXT);
  const [brand, setBrand] = useState('');
  const [query, setQuery] = useState('');
  const [state, setState] = useState<PreviewState>({ kind: 'idle' });
  const area = useRef<HTMLTextAreaElement>(null);
  const chosen = brand || props.brands[0] || '';

  useEffect(() => {
    if (!chosen || query.trim() === '') {
      setState({ kind: 'idle' });
      return;
    }
    let live = true;
    const timer = setTimeout(async () => {
      setState({ kind: 'busy' });
      const { data, error, response } = await api.POST('/api/v1/query/preview', { body: { brand: chosen, query, limit: 20 } });
      if (!live) return;
      if (data) return setState({ kind: 'done', preview: data });
      const queryIssue = response.status === 400 ? error?.errors?.find((e) => e.path === 'body.query') : undefined;
      if (queryIssue) {
        const column = /column (\d+)/.exec(queryIssue.message);
        setState({ kind: 'syntax', message: queryIssue.message.replace(/^column \d+:\s*/, ''), column: column ? Number(column[1]) : null });
      } else setState({ kind: 'failed', message: problemText(error, t('previewFailed')) });
    }, DEBOUNCE_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [chosen, query]);

  function goToError(column: number) {
    const el = area.current;
    if (!el) return;
    el.focus();
    const at = Math.min(column - 1, el.value.length);
    el.setSelectionRange(at, Math.min(at + 1, el.value.length));
  }

  return (
    <section aria-labelledby="sources-editor" class="query-editor">
      <h2 id="sources-editor">{t('editor')}</h2>
      <p class="muted">{t('editorNote')}</p>
      {props.loaded && props.brands.length === 0 ? (
        <p class="muted">{t('noBrands')}</p>
      ) : (
        <div class="editor-fields">
          <label>
            {t('brand')}
            <select value={chosen} onChange={(e) => setBrand(e.currentTarget.value)} disabled={props.brands.length === 0}>
              {props.brands.map((b) => (
                <option key={b} value={b}>
                  {b}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('query')}
            <textarea
              ref={area}
              rows={4}
              spellcheck={false}
              value={query}
              aria-describedby="query-help"
              aria-invalid={state.kind === 'syntax'}
              onInput={(e) => setQuery(e.currentTarget.value)}
            />
          </label>
          <p id="query-help" class="muted small">
            {t('queryHelp')}
          </p>
        </div>
      )}
      <div class="preview" aria-live="polite">
        {state.kind === 'idle' && props.brands.length > 0 && <p class="muted">{t('typeQuery')}</p>}
        {state.kind === 'busy' && <p class="muted">{t('checking')}</p>}
        {state.kind === 'failed' && <p class="error">{state.message}</p>}
        {state.kind === 'syntax' && <SyntaxProblem query={query} state={state} t={t} onGo={goToError} />}
        {state.kind === 'done' && <PreviewResult preview={state.preview} t={t} />}
      </div>
    </section>
  );
}

function SyntaxProblem(props: { query: string; state: { message: string; column: number | null }; t: T; onGo: (column: number) => void }) {
  const { query, state, t } = props;
  if (state.column === null) {
    return (
      <p class="error">
        {t('syntaxErrorPlain')} {state.message}
      </p>
    );
  }
  const { line, column } = lineAndColumn(query, state.column);
  const text = query.split('\n')[line - 1] ?? '';
  const at = column - 1;
  return (
    <div class="syntax-error">
      <p class="error">
        {t('syntaxError', { line, column })} {state.message}
      </p>
      <pre>
        <code>
          {text.slice(0, at)}
          <mark>{text.slice(at, at + 1) || ' '}</mark>
          {text.slice(at + 1)}
        </code>
      </pre>
      <button type="button" class="small" onClick={() => props.onGo(state.column!)}>
        {t('goToError')}
      </button>
    </div>
  );
}

function PreviewResult(props: { preview: Preview; t: T }) {
  const { preview: p, t } = props;
  const f = useFormats();
  if (p.scanned === 0) return <p class="muted">{t('noMentions')}</p>;
  if (p.matched === 0) return <p>{t('noMatches', { scanned: p.scanned })}</p>;
  return (
    <>
      <p>
        {t('matched', { matched: p.matched, scanned: p.scanned })}
        {p.matched > p.data.length && <> {t('showing', { n: p.data.length })}</>}
      </p>
      <ol class="matches">
        {p.data.map((m) => (
          <li key={m.id}>
            <p class="muted small">
              {m.source}
              {m.published_at && <> · {t('published', { when: f.dateTime(m.published_at) })}</>}
              {m.url && (
                <>
                  {' · '}
                  <a href={m.url} target="_blank" rel="noopener noreferrer">
                    {t('open')}
                  </a>
                </>
              )}
            </p>
            {m.title && (
              <p class="match-title">
                <Marked text={m.title} spans={m.title_highlights} />
              </p>
            )}
            <p class="match-text">
              <Marked text={m.text} spans={m.highlights} window={SNIPPET} />
            </p>
          </li>
        ))}
      </ol>
    </>
  );
}

/** The text with its matching spans in <mark>; a long text cut to a window around the first match. */
function Marked(props: { text: string; spans: Match['highlights']; window?: number }) {
  const { text } = props;
  const spans = [...props.spans].sort((a, b) => a.start - b.start);
  let from = 0;
  let to = text.length;
  if (props.window && text.length > props.window) {
    const first = spans[0]?.start ?? 0;
    from = Math.max(0, Math.min(first - Math.floor(props.window / 4), text.length - props.window));
    to = Math.min(text.length, from + props.window);
  }
  const parts: ComponentChildren[] = [];
  if (from > 0) parts.push('… ');
  let at = from;
  spans.forEach((s, i) => {
    const start = Math.max(s.start, at);
    const end = Math.min(s.end, to);
    if (end <= start) return;
    if (start > at) parts.push(text.slice(at, start));
    parts.push(<mark key={i}>{text.slice(start, end)}</mark>);
    at = end;
  });
  if (at < to) parts.push(text.slice(at, to));
  if (to < text.length) parts.push(' …');
  return <>{parts}</>;
}
