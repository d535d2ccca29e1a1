import { useEffect, useState } from 'preact/hooks';
import { applyAction, type ActionResult, type InboxAction, type SentimentChoice } from '../actions.ts';
import { api, type Mention, type MentionDetail } from '../api.ts';
import { defineText, useFormats, useText } from '../i18n.tsx';
import { SENTIMENTS, useLabel } from '../labels.ts';
import { useSession } from '../session.ts';
import { Link } from './link.tsx';

const TEXT = defineText(
  {
    loading: 'Loading…',
    missing: 'This mention is gone.',
    original: 'Open the original',
    fullView: 'Story view',
    followers: '{n} followers',
    rating: 'Rating {n} of 5',
    confidence: 'confidence {p}',
    corrected: 'set by a person',
    lowConfidence: 'a weak guess',
    reasons: 'Needs a reply:',
    noReply: 'Does not need a reply',
    sentimentIs: 'Sentiment',
    needsReply: 'Needs a reply',
    notRelevant: 'No reply needed',
    brandAnswer: "The brand's answer on the source",
    ticket: 'Ticket',
    noTicket: 'No ticket: nothing to answer here yet.',
    status: 'Status',
    priority: 'Priority',
    team: 'Team',
    assignee: 'Assignee',
    nobody: 'nobody',
    firstResponseDue: 'First response due',
    resolutionDue: 'Resolve by',
    breached: 'SLA missed',
    paused: 'SLA paused (pending)',
    solve: 'Solve',
    assignMe: 'Take it',
    unassign: 'Give it back',
    history: 'History',
    copies: 'The same story elsewhere',
    copiesCount_one: '{n} copy',
    copiesCount_other: '{n} copies',
    noCopies: 'No other copies.',
    failed: 'Could not save: {why}',
    change_created: 'opened',
    change_status: 'status',
    change_assignee: 'assignee',
    change_priority: 'priority',
    change_team: 'team',
    change_copy_joined: 'a copy joined',
    change_answered_on_source: 'answered on the source',
    change_sla_warning: 'SLA warning',
    change_sla_breached: 'SLA missed',
  },
  {
    loading: 'Загрузка…',
    missing: 'Этого упоминания больше нет.',
    original: 'Открыть оригинал',
    fullView: 'Вся история',
    followers: 'подписчиков: {n}',
    rating: 'Оценка {n} из 5',
    confidence: 'уверенность {p}',
    corrected: 'задано человеком',
    lowConfidence: 'неуверенно',
    reasons: 'Нужен ответ:',
    noReply: 'Ответ не нужен',
    sentimentIs: 'Тональность',
    needsReply: 'Нужен ответ',
    notRelevant: 'Ответ не нужен',
    brandAnswer: 'Ответ бренда на площадке',
    ticket: 'Обращение',
    noTicket: 'Обращения нет: отвечать пока не на что.',
    status: 'Статус',
    priority: 'Приоритет',
    team: 'Команда',
    assignee: 'Исполнитель',
    nobody: 'никто',
    firstResponseDue: 'Первый ответ до',
    resolutionDue: 'Решить до',
    breached: 'SLA нарушен',
    paused: 'SLA на паузе (ждём ответа)',
    solve: 'Решено',
    assignMe: 'Взять себе',
    unassign: 'Вернуть',
    history: 'История',
    copies: 'Эта же история в других местах',
    copiesCount_one: '{n} копия',
    copiesCount_few: '{n} копии',
    copiesCount_many: '{n} копий',
    copiesCount_other: '{n} копии',
    noCopies: 'Других копий нет.',
    failed: 'Не сохранилось: {why}',
    change_created: 'открыто',
    change_status: 'статус',
    change_assignee: 'исполнитель',
    change_priority: 'приоритет',
    change_team: 'команда',
    change_copy_joined: 'добавилась копия',
    change_answered_on_source: 'отвечено на площадке',
    change_sla_warning: 'SLA скоро истечёт',
    change_sla_breached: 'SLA нарушен',
  },
);

type Span = { start: number; end: number };

/** The text with the brand query's matches marked. */
export function Highlighted(props: { text: string; spans: readonly Span[] }) {
  const parts: (string | preact.JSX.Element)[] = [];
  let at = 0;
  for (const [i, s] of [...props.spans].sort((a, b) => a.start - b.start).entries()) {
    if (s.start < at) continue;
    if (s.start > at) parts.push(props.text.slice(at, s.start));
    parts.push(<mark key={i}>{props.text.slice(s.start, s.end)}</mark>);
    at = s.end;
  }
  if (at < props.text.length) parts.push(props.text.slice(at));
  return <>{parts}</>;
}

export function SentimentChip(props: { mention: Mention }) {
  const label = useLabel();
  const s = props.mention.sentiment;
  return <span class={`chip ${s.label}`}>{label('sentiment', s.label)}</span>;
}

/**
 * Everything about one mention an agent needs to decide: the text with the brand's matches, who wrote it and
 * where, the model's sentiment and why it needs a reply, the story's ticket with its SLA clock and history, the
 * brand's answer and the story's other copies. Corrections and ticket actions are made here too.
 */
export function MentionDetailView(props: {
  id: string;
  /** Moves whenever the inbox changed this mention, so the view reads it again. */
  version?: number;
  full?: boolean;
  onChanged?: (result: ActionResult) => void;
}) {
  const t = useText(TEXT);
  const f = useFormats();
  const label = useLabel();
  const { canWrite } = useSession();
  const [detail, setDetail] = useState<MentionDetail | null | 'missing'>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let live = true;
    void api.GET('/api/v1/mentions/{id}', { params: { path: { id: props.id } } }).then(({ data }) => {
      if (live) setDetail(data ?? 'missing');
    });
    return () => {
      live = false;
    };
  }, [props.id, props.version, reload]);

  if (detail === null) return <p class="muted">{t('loading')}</p>;
  if (detail === 'missing') return <p>{t('missing')}</p>;
  const m = detail.mention;
  const ticket = detail.ticket;

  async function act(action: InboxAction, sentiment?: SentimentChoice) {
    setError(null);
    const { results, error: failure } = await applyAction([props.id], action, sentiment);
    const r = results[0];
    if (failure || !r || !r.ok) setError(t('failed', { why: failure ?? r?.error ?? '?' }));
    if (r) props.onChanged?.(r);
    setReload((n) => n + 1);
  }

  const confidence = m.sentiment.confidence;
  return (
    <article class="mention-detail" aria-label={m.title ?? m.author.name ?? m.source}>
      <header class="detail-head">
        <div>
          <strong>{m.author.name ?? m.author.handle ?? '—'}</strong>
          {m.author.handle && m.author.name && <span class="muted"> @{m.author.handle.replace(/^@/, '')}</span>}
          {m.author.followers !== null && <span class="muted small"> · {t('followers', { n: m.author.followers })}</span>}
        </div>
        <div class="muted small">
          {m.source} · {f.dateTime(m.published_at ?? m.first_seen_at)}
          {m.url && (
            <>
              {' · '}
              <a href={m.url} target="_blank" rel="noopener noreferrer">
                {t('original')}
              </a>
            </>
          )}
          {!props.full && (
            <>
              {' · '}
              <Link href={`/mentions/${m.id}`}>{t('fullView')}</Link>
            </>
          )}
        </div>
      </header>
      {m.title && (
        <h2 class="detail-title">
          <Highlighted text={m.title} spans={detail.highlights.title} />
        </h2>
      )}
      <p class="detail-text">
        <Highlighted text={m.text} spans={detail.highlights.text} />
      </p>
      <div class="chips">
        <SentimentChip mention={m} />
        {confidence !== null && !m.corrected.sentiment && (
          <span class="muted small">{t('confidence', { p: f.percent(confidence) })}</span>
        )}
        {m.corrected.sentiment && <span class="muted small">{t('corrected')}</span>}
        {m.sentiment.low_confidence && !m.corrected.sentiment && <span class="muted small">{t('lowConfidence')}</span>}
        <span class="chip">{label('lang', m.lang)}</span>
        {m.rating !== null && (
          <span class="chip" title={t('rating', { n: m.rating })} aria-label={t('rating', { n: m.rating })}>
            {'★'.repeat(m.rating)}
            {'☆'.repeat(Math.max(0, 5 - m.rating))}
          </span>
        )}
      </div>
      <p class="small">
        {m.actionable ? (
          `${t('reasons')} ${m.action_reasons.map((r) => label('reason', r)).join(', ') || '—'}`
        ) : (
          <span class="muted">{t('noReply')}</span>
        )}
      </p>
      {canWrite && (
        <div class="corrections" role="group" aria-label={t('sentimentIs')}>
          <span class="small muted">{t('sentimentIs')}:</span>
          {SENTIMENTS.map((s, i) => (
            <button
              type="button"
              key={s}
              class="small"
              aria-pressed={m.sentiment.label === s}
              title={`${label('sentiment', s)} (${i + 1})`}
              onClick={() => act('sentiment', s)}
            >
              {label('sentiment', s)}
            </button>
          ))}
          <span class="sep" />
          <button type="button" class="small" aria-pressed={m.actionable} onClick={() => act('needs_reply')}>
            {t('needsReply')}
          </button>
          <button type="button" class="small" aria-pressed={!m.actionable} onClick={() => act('not_relevant')}>
            {t('notRelevant')}
          </button>
        </div>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {m.reply && (
        <section class="reply">
          <h3>{t('brandAnswer')}</h3>
          <p>{m.reply.text}</p>
          {m.reply.at && <p class="muted small">{f.dateTime(m.reply.at)}</p>}
        </section>
      )}
      <section class="ticket">
        <h3>{t('ticket')}</h3>
        {ticket ? (
          <>
            <dl class="facts">
              <dt>{t('status')}</dt>
              <dd>
                <span class={`chip status-${ticket.status}`}>{label('status', ticket.status)}</span>
              </dd>
              <dt>{t('priority')}</dt>
              <dd>
                <span class={`chip ${ticket.priority}`}>{label('priority', ticket.priority)}</span>
              </dd>
              <dt>{t('team')}</dt>
              <dd>{ticket.team}</dd>
              <dt>{t('assignee')}</dt>
              <dd>{ticket.assignee ?? <span class="muted">{t('nobody')}</span>}</dd>
              {ticket.first_response_due_at && !ticket.first_response_at && (
                <>
                  <dt>{t('firstResponseDue')}</dt>
                  <dd>
                    {f.dateTime(ticket.first_response_due_at)} ({f.relative(ticket.first_response_due_at)})
                  </dd>
                </>
              )}
              {ticket.resolution_due_at && !ticket.solved_at && (
                <>
                  <dt>{t('resolutionDue')}</dt>
                  <dd>
                    {f.dateTime(ticket.resolution_due_at)} ({f.relative(ticket.resolution_due_at)})
                  </dd>
                </>
              )}
            </dl>
            {ticket.breached && <span class="chip breached">{t('breached')}</span>}
            {ticket.sla_paused && <span class="chip">{t('paused')}</span>}
            {canWrite && (
              <div class="ticket-actions">
                <button type="button" onClick={() => act('solve')}>
                  {t('solve')}
                </button>
                <button type="button" onClick={() => act('assign_me')}>
                  {t('assignMe')}
                </button>
                {ticket.assignee && (
                  <button type="button" onClick={() => act('unassign')}>
                    {t('unassign')}
                  </button>
                )}
              </div>
            )}
            <h4>{t('history')}</h4>
            <ol class="history">
              {detail.history.map((h) => (
                <li key={h.seq}>
                  <span class="muted small">{f.dateTime(h.at)}</span> {historyLine(h, t)}{' '}
                  <span class="muted small">— {h.actor}</span>
                </li>
              ))}
            </ol>
          </>
        ) : (
          <p class="muted">{t('noTicket')}</p>
        )}
      </section>
      <section class="copies">
        <h3>
          {t('copies')} <span class="muted small">({t.n('copiesCount', detail.copies_total)})</span>
        </h3>
        {detail.copies.length === 0 ? (
          <p class="muted">{t('noCopies')}</p>
        ) : (
          <ul>
            {detail.copies.map((c) => (
              <li key={c.id}>
                <span class="chip">{c.source}</span> <Link href={`/mentions/${c.id}`}>{c.author.name ?? c.author.handle ?? c.id}</Link>{' '}
                <span class="muted small">{f.dateTime(c.published_at ?? c.first_seen_at)}</span>
                <div class="copy-text">{c.text.slice(0, 200)}</div>
              </li>
            ))}
          </ul>
        )}
      </section>
    </article>
  );
}

function historyLine(h: { kind: string; changes: Record<string, unknown> }, t: (k: never) => string): string {
  const key = `change_${h.kind}`;
  const name = key in TEXT.en ? (t as (k: string) => string)(key) : h.kind;
  const moves = Object.entries(h.changes)
    .filter(([, v]) => v && typeof v === 'object' && 'to' in (v as object))
    .map(([field, v]) => `${field}: ${String((v as { from?: unknown }).from ?? '—')} → ${String((v as { to?: unknown }).to ?? '—')}`);
  return moves.length > 0 ? `${name} (${moves.join(', ')})` : name;
}
