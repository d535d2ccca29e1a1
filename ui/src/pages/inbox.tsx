import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { applyAction, type ActionResult, type InboxAction, type SentimentChoice } from '../actions.ts';
import { api, problemText, type InboxItem, type Schemas } from '../api.ts';
import type { paths } from '../generated/api.ts';
import { MentionDetailView, SentimentChip } from '../components/mention-detail.tsx';
import { ShortcutHelp, SHORTCUTS } from '../components/shortcuts.tsx';
import { defineText, useFormats, useText } from '../i18n.tsx';
import { LANGS, REASONS, SENTIMENTS, TICKET_STATUSES, useLabel } from '../labels.ts';
import type { LiveChanges } from '../live.ts';
import { navigate } from '../router.ts';
import { useSession } from '../session.ts';
import './inbox.css';

const TEXT = defineText(
  {
    title: 'Inbox',
    filters: 'Filters',
    search: 'Search the text',
    view: 'Show',
    view_needs_reply: 'Needs a reply',
    view_tickets: 'Tickets',
    view_mentions: 'All mentions',
    sort: 'Order',
    sort_priority: 'Priority and SLA',
    sort_newest: 'Newest first',
    brand: 'Brand',
    source: 'Source',
    team: 'Team',
    status: 'Status',
    sentiment: 'Sentiment',
    lang: 'Language',
    reason: 'Reason',
    assignee: 'Assignee',
    assignee_me: 'me',
    assignee_none: 'nobody',
    since: 'From',
    until: 'To',
    any: 'any',
    clear: 'Clear filters',
    total_one: '{n} item',
    total_other: '{n} items',
    totalMore: 'over {n} items',
    fresh_one: '{n} new item arrived',
    fresh_other: '{n} new items arrived',
    empty: 'Nothing here. Everything that needs a reply is answered.',
    emptyFiltered: 'Nothing matches these filters.',
    loading: 'Loading…',
    loadFailed: 'Could not load the inbox: {why}',
    selected_one: '{n} selected',
    selected_other: '{n} selected',
    solve: 'Solve',
    assignMe: 'Take',
    notRelevant: 'Not relevant',
    setSentiment: 'Set sentiment',
    clearSelection: 'Clear',
    select: 'Select',
    done_one: 'Done: {n} mention',
    done_other: 'Done: {n} mentions',
    partly: '{ok} done, {failed} not: {why}',
    pick: 'Pick an item on the left, or press j.',
    shortcuts: 'Keyboard shortcuts (?)',
    list: 'Items',
    due: 'due {when}',
    overdue: 'overdue',
    readOnly: 'You can look but not change anything (viewer).',
  },
  {
    title: 'Входящие',
    filters: 'Фильтры',
    search: 'Поиск по тексту',
    view: 'Показать',
    view_needs_reply: 'Ждут ответа',
    view_tickets: 'Обращения',
    view_mentions: 'Все упоминания',
    sort: 'Порядок',
    sort_priority: 'Приоритет и SLA',
    sort_newest: 'Сначала новые',
    brand: 'Бренд',
    source: 'Источник',
    team: 'Команда',
    status: 'Статус',
    sentiment: 'Тональность',
    lang: 'Язык',
    reason: 'Причина',
    assignee: 'Исполнитель',
    assignee_me: 'я',
    assignee_none: 'никто',
    since: 'С',
    until: 'По',
    any: 'все',
    clear: 'Сбросить фильтры',
    total_one: '{n} элемент',
    total_few: '{n} элемента',
    total_many: '{n} элементов',
    total_other: '{n} элемента',
    totalMore: 'более {n} элементов',
    fresh_one: 'Пришёл {n} новый элемент',
    fresh_few: 'Пришло {n} новых элемента',
    fresh_many: 'Пришло {n} новых элементов',
    fresh_other: 'Пришло {n} новых элемента',
    empty: 'Здесь пусто. На всё, что требует ответа, уже ответили.',
    emptyFiltered: 'По этим фильтрам ничего нет.',
    loading: 'Загрузка…',
    loadFailed: 'Не удалось загрузить входящие: {why}',
    selected_one: 'Выбран {n}',
    selected_few: 'Выбрано {n}',
    selected_many: 'Выбрано {n}',
    selected_other: 'Выбрано {n}',
    solve: 'Решено',
    assignMe: 'Взять',
    notRelevant: 'Не по делу',
    setSentiment: 'Тональность',
    clearSelection: 'Снять выбор',
    select: 'Выбрать',
    done_one: 'Готово: {n} упоминание',
    done_few: 'Готово: {n} упоминания',
    done_many: 'Готово: {n} упоминаний',
    done_other: 'Готово: {n} упоминания',
    partly: 'Сделано {ok}, не сделано {failed}: {why}',
    pick: 'Выберите элемент слева или нажмите j.',
    shortcuts: 'Горячие клавиши (?)',
    list: 'Элементы',
    due: 'до {when}',
    overdue: 'просрочено',
    readOnly: 'Вы можете смотреть, но не менять (наблюдатель).',
  },
);

const ROW = 76;
const OVERSCAN = 8;
const PAGE = 100;
const FILTER_KEYS = ['view', 'sort', 'brand', 'source', 'target', 'team', 'status', 'sentiment', 'lang', 'reason', 'assignee', 'since', 'until', 'q'] as const;
type FilterKey = (typeof FILTER_KEYS)[number];
type Query = NonNullable<paths['/api/v1/inbox']['get']['parameters']['query']>;

function queryOf(search: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of FILTER_KEYS) {
    const v = search.get(k);
    if (v) out[k] = v;
  }
  return out;
}

/** Whether an item still belongs in the view after a change (a solved ticket leaves "needs a reply"). */
function stillShown(item: InboxItem, view: string): boolean {
  if (view !== 'needs_reply') return true;
  return item.mention.actionable && item.ticket !== null && ['new', 'open', 'pending', 'on_hold'].includes(item.ticket.status);
}

export function InboxPage(props: { query: URLSearchParams; live: LiveChanges }) {
  const t = useText(TEXT);
  const f = useFormats();
  const label = useLabel();
  const { canWrite } = useSession();
  const filters = useMemo(() => queryOf(props.query), [props.query.toString()]);
  const view = filters.view ?? 'needs_reply';

  const [items, setItems] = useState<InboxItem[]>([]);
  const [total, setTotal] = useState({ n: 0, exact: true });
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [focus, setFocus] = useState(0);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [status, setStatus] = useState('');
  const [help, setHelp] = useState(false);
  const [detailVersion, setDetailVersion] = useState(0);
  const [targets, setTargets] = useState<Schemas['TargetHealth'][]>([]);
  const listRef = useRef<HTMLDivElement>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const requestSeq = useRef(0);
  const loadingMore = useRef(false);
  const lastLive = useRef<string | null>(null);
  const onKeyRef = useRef<(e: KeyboardEvent) => void>(() => {});
  const freshSinceAct = useRef(0);

  const fetchPage = useCallback(
    async (after: string | null) => {
      const query = { ...filters, limit: PAGE, ...(after ? { cursor: after } : {}) } as Query;
      return api.GET('/api/v1/inbox', { params: { query } });
    },
    [filters],
  );

  // A new set of filters starts the list over.
  useEffect(() => {
    const seq = ++requestSeq.current;
    setLoading(true);
    setError(null);
    setSelected(new Set());
    void fetchPage(null).then(({ data, error: problem }) => {
      if (seq !== requestSeq.current) return;
      setLoading(false);
      if (!data) {
        setError(t('loadFailed', { why: problemText(problem, '?') }));
        setItems([]);
        return;
      }
      setItems(data.data);
      setTotal({ n: data.total, exact: data.total_exact });
      setCursor(data.has_more ? data.next_cursor : null);
      setFocus(0);
      listRef.current?.scrollTo({ top: 0 });
    });
  }, [fetchPage]);

  useEffect(() => {
    void api.GET('/api/v1/targets').then(({ data }) => data && setTargets(data.data));
  }, []);

  async function loadMore() {
    if (!cursor || loadingMore.current) return;
    loadingMore.current = true;
    const seq = requestSeq.current;
    const { data } = await fetchPage(cursor);
    loadingMore.current = false;
    if (!data || seq !== requestSeq.current) return;
    setItems((old) => {
      const seen = new Set(old.map((i) => i.mention.id));
      return [...old, ...data.data.filter((i) => !seen.has(i.mention.id))];
    });
    setCursor(data.has_more ? data.next_cursor : null);
  }

  // New mentions or ticket changes reported by the server: the top of the list is read again and merged,
  // and the focused item stays where the agent's eyes are.
  useEffect(() => {
    const key = `${props.live.mentionId}/${props.live.ticketSeq}`;
    if (props.live.mentionId === null && props.live.ticketSeq === null) return;
    if (lastLive.current === null) {
      lastLive.current = key;
      return;
    }
    if (lastLive.current === key) return;
    lastLive.current = key;
    const seq = requestSeq.current;
    void fetchPage(null).then(({ data }) => {
      if (!data || seq !== requestSeq.current) return;
      setTotal({ n: data.total, exact: data.total_exact });
      setItems((old) => {
        const focusedId = old[focus]?.mention.id;
        const known = new Set(old.map((i) => i.mention.id));
        const fresh = data.data.filter((i) => !known.has(i.mention.id)).length;
        const top = new Set(data.data.map((i) => i.mention.id));
        const merged = [...data.data, ...old.slice(data.data.length).filter((i) => !top.has(i.mention.id))];
        const newFocus = focusedId ? merged.findIndex((i) => i.mention.id === focusedId) : -1;
        if (newFocus >= 0 && newFocus !== focus) {
          const shift = (newFocus - focus) * ROW;
          setFocus(newFocus);
          requestAnimationFrame(() => listRef.current?.scrollBy({ top: shift }));
        }
        // Counted since the agent last did something: a crawl's page may come in a few transactions.
        freshSinceAct.current += fresh;
        if (fresh > 0) setStatus(t.n('fresh', freshSinceAct.current));
        return merged;
      });
    });
  }, [props.live.mentionId, props.live.ticketSeq]);

  useLayoutEffect(() => {
    const el = listRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    setHeight(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  const focused = items[focus];

  // Keep the focused row in sight.
  useEffect(() => {
    const el = listRef.current;
    if (!el) return;
    const top = focus * ROW;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW - el.clientHeight;
    if (focus > items.length - 20) void loadMore();
  }, [focus]);

  function setFilter(key: FilterKey, value: string) {
    const next = new URLSearchParams(props.query);
    if (value) next.set(key, value);
    else next.delete(key);
    const qs = next.toString();
    navigate(qs ? `/?${qs}` : '/', { replace: true });
  }

  function applyResults(results: ActionResult[]) {
    const byId = new Map(results.filter((r) => r.ok).map((r) => [r.mention_id, r]));
    setItems((old) => {
      const focusedId = old[focus]?.mention.id;
      const next: InboxItem[] = [];
      let removedBeforeFocus = 0;
      old.forEach((item, index) => {
        const r = byId.get(item.mention.id);
        const updated: InboxItem = r ? { mention: r.mention ?? item.mention, ticket: r.ticket === undefined ? item.ticket : r.ticket } : item;
        if (stillShown(updated, view)) next.push(updated);
        else if (index < focus) removedBeforeFocus++;
      });
      const removed = old.length - next.length;
      if (removed > 0) setTotal((old) => (old.exact ? { n: Math.max(0, old.n - removed), exact: true } : old));
      const keep = focusedId ? next.findIndex((i) => i.mention.id === focusedId) : -1;
      setFocus(Math.max(0, Math.min(keep >= 0 ? keep : focus - removedBeforeFocus, next.length - 1)));
      return next;
    });
    setDetailVersion((v) => v + 1);
  }

  async function act(action: InboxAction, sentiment?: SentimentChoice) {
    if (!canWrite) return;
    freshSinceAct.current = 0;
    const ids = selected.size > 0 ? [...selected] : focused ? [focused.mention.id] : [];
    if (ids.length === 0) return;
    const { results, error: failure } = await applyAction(ids, action, sentiment);
    if (failure) {
      setStatus(failure);
      return;
    }
    const failed = results.filter((r) => !r.ok);
    setStatus(
      failed.length === 0
        ? t.n('done', results.length)
        : t('partly', { ok: results.length - failed.length, failed: failed.length, why: failed[0]?.error ?? '' }),
    );
    setSelected(new Set());
    applyResults(results);
  }

  function toggle(id: string) {
    setSelected((old) => {
      const next = new Set(old);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }

  // Keyboard first: every decision is a key (see SHORTCUTS). The handler is the one of the latest render, set
  // while rendering: a key pressed right after the list changed acts on what the agent sees.
  onKeyRef.current = (e: KeyboardEvent) => {
    const target = e.target as HTMLElement;
    const typing =
      (target.tagName === 'INPUT' && (target as HTMLInputElement).type !== 'checkbox') || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT';
    // Enter and space on a button or a link are theirs.
    if ((e.key === 'Enter' || e.key === ' ') && (target.tagName === 'BUTTON' || target.tagName === 'A')) return;
    if (e.key === 'Escape') {
      if (help) setHelp(false);
      else if (typing) target.blur();
      else setSelected(new Set());
      return;
    }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const id = items[focus]?.mention.id;
    const handled = (() => {
      switch (e.key) {
        case 'j':
        case 'ArrowDown':
          setFocus((i) => Math.min(i + 1, Math.max(0, items.length - 1)));
          return true;
        case 'k':
        case 'ArrowUp':
          setFocus((i) => Math.max(i - 1, 0));
          return true;
        case 'o':
        case 'Enter':
          if (id) navigate(`/mentions/${id}`);
          return true;
        case 'x':
          if (id) toggle(id);
          return true;
        case '*':
          setSelected((old) => (old.size === items.length ? new Set() : new Set(items.map((i) => i.mention.id))));
          return true;
        case 's':
          void act('solve');
          return true;
        case 'a':
          void act('assign_me');
          return true;
        case 'n':
          void act('not_relevant');
          return true;
        case 'r':
          void act('needs_reply');
          return true;
        case '1':
        case '2':
        case '3':
        case '4':
          void act('sentiment', SENTIMENTS[Number(e.key) - 1]);
          return true;
        case '/':
          searchRef.current?.focus();
          return true;
        case '?':
          setHelp((h) => !h);
          return true;
        default:
          return false;
      }
    })();
    if (handled) {
      e.preventDefault();
      freshSinceAct.current = 0;
    }
  };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => onKeyRef.current(e);
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const first = Math.max(0, Math.floor(scrollTop / ROW) - OVERSCAN);
  const last = Math.min(items.length, Math.ceil((scrollTop + height) / ROW) + OVERSCAN);
  const brands = [...new Set(targets.flatMap((x) => x.brands))].sort();
  const sources = [...new Set(targets.map((x) => x.source))].sort();
  const teams = [...new Set(targets.map((x) => x.team).filter((x): x is string => !!x))].sort();
  const filtered = Object.keys(filters).some((k) => k !== 'view' && k !== 'sort');

  return (
    <main class="inbox">
      <h1 class="visually-hidden">{t('title')}</h1>
      <form class="filters" aria-label={t('filters')} onSubmit={(e) => e.preventDefault()}>
        <label>
          <span class="visually-hidden">{t('search')}</span>
          <input
            ref={searchRef}
            type="search"
            placeholder={`${t('search')} (/)`}
            value={filters.q ?? ''}
            onChange={(e) => setFilter('q', (e.currentTarget as HTMLInputElement).value.trim())}
          />
        </label>
        <Select label={t('view')} value={view} onChange={(v) => setFilter('view', v === 'needs_reply' ? '' : v)} options={['needs_reply', 'tickets', 'mentions'].map((v) => [v, t(`view_${v}` as 'view_tickets')])} />
        <Select label={t('sort')} value={filters.sort ?? (view === 'mentions' ? 'newest' : 'priority')} onChange={(v) => setFilter('sort', v)} options={['priority', 'newest'].map((v) => [v, t(`sort_${v}` as 'sort_newest')])} />
        <Select label={t('brand')} value={filters.brand ?? ''} any={t('any')} onChange={(v) => setFilter('brand', v)} options={brands.map((b) => [b, b])} />
        <Select label={t('source')} value={filters.source ?? ''} any={t('any')} onChange={(v) => setFilter('source', v)} options={sources.map((s) => [s, s])} />
        <Select label={t('team')} value={filters.team ?? ''} any={t('any')} onChange={(v) => setFilter('team', v)} options={teams.map((s) => [s, s])} />
        {view !== 'needs_reply' && (
          <Select label={t('status')} value={filters.status ?? ''} any={t('any')} onChange={(v) => setFilter('status', v)} options={TICKET_STATUSES.map((s) => [s, label('status', s)])} />
        )}
        <Select label={t('sentiment')} value={filters.sentiment ?? ''} any={t('any')} onChange={(v) => setFilter('sentiment', v)} options={SENTIMENTS.map((s) => [s, label('sentiment', s)])} />
        <Select label={t('lang')} value={filters.lang ?? ''} any={t('any')} onChange={(v) => setFilter('lang', v)} options={LANGS.map((s) => [s, label('lang', s)])} />
        <Select label={t('reason')} value={filters.reason ?? ''} any={t('any')} onChange={(v) => setFilter('reason', v)} options={REASONS.map((s) => [s, label('reason', s)])} />
        <Select label={t('assignee')} value={filters.assignee ?? ''} any={t('any')} onChange={(v) => setFilter('assignee', v)} options={[['me', t('assignee_me')], ['none', t('assignee_none')]]} />
        <DateFilter label={t('since')} value={filters.since} onChange={(v) => setFilter('since', v)} endOfDay={false} />
        <DateFilter label={t('until')} value={filters.until} onChange={(v) => setFilter('until', v)} endOfDay />
        {filtered && (
          <button type="button" class="link" onClick={() => navigate(view === 'needs_reply' ? '/' : `/?view=${view}`, { replace: true })}>
            {t('clear')}
          </button>
        )}
        <button type="button" class="link shortcuts-link" onClick={() => setHelp(true)}>
          {t('shortcuts')}
        </button>
      </form>
      <div class="inbox-body">
        <section class="list-pane" aria-label={t('list')}>
          <div class="list-head">
            <span class="muted small">{total.exact ? t.n('total', total.n) : t('totalMore', { n: total.n })}</span>
            <span class="muted small live" role="status" aria-live="polite">
              {status}
            </span>
            {!canWrite && <span class="muted small">{t('readOnly')}</span>}
          </div>
          {selected.size > 0 && canWrite && (
            <div class="bulk-bar" role="toolbar" aria-label={t.n('selected', selected.size)}>
              <strong>{t.n('selected', selected.size)}</strong>
              <button type="button" onClick={() => act('solve')}>
                {t('solve')} <kbd>s</kbd>
              </button>
              <button type="button" onClick={() => act('assign_me')}>
                {t('assignMe')} <kbd>a</kbd>
              </button>
              <button type="button" onClick={() => act('not_relevant')}>
                {t('notRelevant')} <kbd>n</kbd>
              </button>
              <Select label={t('setSentiment')} value="" any={t('setSentiment')} onChange={(v) => v && act('sentiment', v as SentimentChoice)} options={SENTIMENTS.map((s) => [s, label('sentiment', s)])} hideLabel />
              <button type="button" class="link" onClick={() => setSelected(new Set())}>
                {t('clearSelection')}
              </button>
            </div>
          )}
          <div class="list" ref={listRef} onScroll={(e) => {
            const el = e.currentTarget as HTMLDivElement;
            setScrollTop(el.scrollTop);
            if (el.scrollTop + el.clientHeight > el.scrollHeight - ROW * 20) void loadMore();
          }}>
            {loading ? (
              <p class="muted pad">{t('loading')}</p>
            ) : error ? (
              <p class="error pad" role="alert">{error}</p>
            ) : items.length === 0 ? (
              <p class="muted pad">{filtered ? t('emptyFiltered') : t('empty')}</p>
            ) : (
              <ul class="rows" style={{ height: `${items.length * ROW}px` }}>
                {items.slice(first, last).map((item, k) => {
                  const index = first + k;
                  const m = item.mention;
                  const tk = item.ticket;
                  const due = tk?.first_response_due_at ?? tk?.resolution_due_at ?? null;
                  const overdue = tk !== null && (tk.breached || (due !== null && new Date(due).getTime() < Date.now()));
                  return (
                    <li
                      key={m.id}
                      class={`row${index === focus ? ' focused' : ''}${selected.has(m.id) ? ' selected' : ''}`}
                      style={{ top: `${index * ROW}px` }}
                      aria-current={index === focus ? 'true' : undefined}
                      data-id={m.id}
                      onClick={() => setFocus(index)}
                    >
                      {canWrite && (
                        <input
                          type="checkbox"
                          aria-label={`${t('select')} ${m.author.name ?? m.id}`}
                          checked={selected.has(m.id)}
                          onClick={(e) => e.stopPropagation()}
                          onChange={() => toggle(m.id)}
                        />
                      )}
                      <div class="row-main">
                        <div class="row-meta">
                          <SentimentChip mention={m} />
                          {tk && tk.priority !== 'normal' && <span class={`chip ${tk.priority}`}>{label('priority', tk.priority)}</span>}
                          <span class="chip source">{m.source}</span>
                          <span class="author">{m.author.name ?? m.author.handle ?? '—'}</span>
                          <span class="muted small">{f.relative(m.published_at ?? m.first_seen_at)}</span>
                          {tk && (
                            <span class="row-ticket small">
                              {label('status', tk.status)}
                              {tk.assignee && ` · ${tk.assignee}`}
                              {due && ['new', 'open', 'on_hold'].includes(tk.status) && (
                                <span class={overdue ? 'overdue' : 'muted'}> · {overdue ? t('overdue') : t('due', { when: f.relative(due) })}</span>
                              )}
                            </span>
                          )}
                        </div>
                        <div class="row-text">{m.title ? `${m.title} — ${m.text}` : m.text}</div>
                      </div>
                    </li>
                  );
                })}
              </ul>
            )}
          </div>
        </section>
        <section class="detail-pane" aria-label={focused?.mention.title ?? focused?.mention.author.name ?? t('pick')}>
          {focused ? (
            <MentionDetailView id={focused.mention.id} version={detailVersion} onChanged={(r) => applyResults([r])} />
          ) : (
            <p class="muted">{t('pick')}</p>
          )}
        </section>
      </div>
      {help && <ShortcutHelp onClose={() => setHelp(false)} shortcuts={SHORTCUTS} />}
    </main>
  );
}

function Select(props: {
  label: string;
  value: string;
  options: readonly (readonly [string, string])[];
  onChange: (value: string) => void;
  any?: string;
  hideLabel?: boolean;
}) {
  return (
    <label class="filter">
      <span class={props.hideLabel ? 'visually-hidden' : 'small muted'}>{props.label}</span>
      <select value={props.value} onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value)}>
        {props.any !== undefined && <option value="">{props.any}</option>}
        {props.options.map(([v, name]) => (
          <option key={v} value={v}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** A day in the user's time zone, kept in the URL as the instant it starts (or ends). */
function DateFilter(props: { label: string; value: string | undefined; onChange: (iso: string) => void; endOfDay: boolean }) {
  const day = props.value ? localDay(new Date(props.value)) : '';
  return (
    <label class="filter">
      <span class="small muted">{props.label}</span>
      <input
        type="date"
        value={day}
        onChange={(e) => {
          const v = (e.currentTarget as HTMLInputElement).value;
          if (!v) return props.onChange('');
          const [y, mo, d] = v.split('-').map(Number) as [number, number, number];
          const at = props.endOfDay ? new Date(y, mo - 1, d, 23, 59, 59, 999) : new Date(y, mo - 1, d);
          props.onChange(at.toISOString());
        }}
      />
    </label>
  );
}

function localDay(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
