import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { MentionAuthor, MentionDetails, MentionMetrics, MentionReply } from '../crawlers/types.ts';
import type { ActionReason, SentimentLabel } from '../sentiment/types.ts';

// One definition of the label, in the sentiment contract; store callers keep importing it from here.
export type { SentimentLabel } from '../sentiment/types.ts';

// int8 columns (ids, seq) come back from pg as strings (on PGlite and PostgreSQL alike); we keep them as strings.
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null, Date | string | null>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
/** jsonb: read as the parsed value, written as a JSON string (pg would turn JS arrays into PG arrays). */
type Json<T> = ColumnType<T, string, string>;

export type TargetState = 'ok' | 'degraded' | 'blocked' | 'needs_action' | 'disabled';
export type CrawlRunStatus = 'running' | 'ok' | 'failed' | 'interrupted';
/** parked: the destination is not in the config; the row goes out when it is back. */
export const OUTBOX_STATUSES = ['pending', 'delivered', 'dead', 'parked', 'suppressed'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];
/** Zendesk's set, plus spam and ignored for what social listening dismisses. */
export const TICKET_STATUSES = ['new', 'open', 'pending', 'on_hold', 'solved', 'closed', 'spam', 'ignored'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
/** A ticket in these statuses is still being worked on: a copy of its story attaches to it. */
export const OPEN_TICKET_STATUSES = ['new', 'open', 'pending', 'on_hold'] as const satisfies readonly TicketStatus[];
export const TICKET_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];
/** The two SLA clocks of a ticket. */
export type SlaMetric = 'first_response' | 'resolution';
export type CorrectionField = 'sentiment' | 'actionable';

export interface BrandTable {
  id: Generated<number>;
  name: string;
  keywords: Json<string[]>;
  own_accounts: ColumnType<string[], string | undefined, string>;
  query: ColumnType<string | null, string | null | undefined, string | null>;
  aliases: ColumnType<string[], string | undefined, string>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface TargetTable {
  id: string;
  source: string;
  brand_id: number;
  params: Json<Record<string, unknown>>;
  schedule: string;
  enabled: boolean;
  state: TargetState;
  last_run_at: NullableTimestamp;
  last_success_at: NullableTimestamp;
  last_error_at: NullableTimestamp;
  last_error: string | null;
  consecutive_errors: number;
  next_run_at: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: Timestamp;
  /** The team that owns this target's tickets (a branch's city or franchise); null: routing.defaultTeam. */
  team: ColumnType<string | null, string | null | undefined, string | null>;
  expected_quiet_days: ColumnType<number, number | undefined, number>;
  /** Newest `publishedAt` a completed crawl fetched, matched or not: paging stops once it reaches back here. */
  watermark_at: NullableTimestamp;
  /** The last cron fire a scheduler claimed: a second scheduler's copy of the same fire finds it taken. */
  last_fired_at: NullableTimestamp;
  /** Cron fires that found the target still queued or running: the workers are not keeping up. */
  skipped_runs: ColumnType<number, number | undefined, number>;
  last_skipped_at: NullableTimestamp;
  /** The publication (else first-seen) time of the newest mention this target stored first; null: none yet. */
  latest_mention_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** A target's brands in config order; the first owns what the target keeps without a match. */
export interface TargetBrandTable {
  target_id: string;
  brand_id: number;
  position: number;
}

/** Every brand a mention names; `mentions.brand_id` is the one it was first stored for. */
export interface MentionBrandTable {
  brand_id: number;
  mention_id: string;
}

/** A running earshot process that crawls: it beats, and its death hands its jobs back. */
export interface ProcessTable {
  id: string;
  role: string;
  host: string;
  pid: number;
  concurrency: ColumnType<number, number | undefined, number>;
  started_at: Timestamp;
  heartbeat_at: Timestamp;
}

/** A pg-boss crawl job and the process that took it. */
export interface JobLeaseTable {
  job_id: string;
  queue: string;
  target_id: string;
  process_id: string;
  leased_at: Timestamp;
}

/** The next free request slot of a rate-limited account or host, shared by all processes. */
export interface HostSlotTable {
  key: string;
  next_at: Timestamp;
}

export interface CrawlRunTable {
  id: Generated<string>;
  target_id: string;
  status: CrawlRunStatus;
  started_at: Timestamp;
  finished_at: NullableTimestamp;
  pages: number;
  fetched: number;
  new: number;
  updated: number;
  duplicates: number;
  unmatched: number;
  tickets: number;
  error_kind: string | null;
  error: string | null;
  /** The process that ran it; when that process dies mid-crawl, the run is closed as interrupted. */
  process_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface MentionTable {
  id: Generated<string>;
  source: string;
  external_id: string;
  brand_id: number;
  target_id: string | null;
  url: string | null;
  author: Json<MentionAuthor>;
  title: string | null;
  text: string;
  content_hash: string;
  rating: number | null;
  published_at: NullableTimestamp;
  first_seen_at: Timestamp;
  updated_at: Timestamp;
  lang: string;
  sentiment: SentimentLabel;
  sentiment_score: number | null;
  sentiment_model: string;
  actionable: boolean;
  metrics: Json<MentionMetrics>;
  reply: Json<MentionReply | null>;
  parent_external_id: string | null;
  details: ColumnType<MentionDetails, string | undefined, string>;
  search: ColumnType<string, never, never>;
  /** 0..1, the probability the model gives its label; 1 for a person's label; null for rows scored before 0003. */
  sentiment_confidence: ColumnType<number | null, number | null | undefined, number | null>;
  action_reasons: ColumnType<ActionReason[], ActionReason[] | undefined, ActionReason[]>;
  /** Why the label is `mixed` or why the rating was overruled; null otherwise. */
  sentiment_reason: ColumnType<string | null, string | null | undefined, string | null>;
  /** A person set the label: re-crawls keep it. */
  sentiment_corrected: ColumnType<boolean, boolean | undefined, boolean>;
  /** A person set `actionable`: re-crawls keep it. */
  actionable_corrected: ColumnType<boolean, boolean | undefined, boolean>;
  /** The near-duplicate cluster; null until ingestion assigns one. */
  cluster_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Hash of the content key (URLs, handles, RT/forward prefixes, emoji, punctuation stripped). */
  fingerprint: ColumnType<string | null, string | null | undefined, string | null>;
  /** MinHash LSH band keys (int8 as decimal strings). */
  lsh: ColumnType<string[], string[] | undefined, string[]>;
}

export interface ClusterTable {
  id: Generated<string>;
  brand_id: number;
  representative_id: string;
  size: number;
  sources: ColumnType<string[], string[], string[]>;
  first_seen_at: Timestamp;
  last_seen_at: Timestamp;
}

export interface MentionCorrectionTable {
  id: Generated<string>;
  mention_id: string;
  brand_id: number;
  field: CorrectionField;
  /** A label, or 'true'/'false' for `actionable`. */
  old_value: string;
  new_value: string;
  actor: string;
  note: string | null;
  created_at: Timestamp;
}

export interface SentimentModelTable {
  id: Generated<string>;
  brand_id: number;
  lang: string;
  version: number;
  weights: ColumnType<Buffer, Uint8Array, Uint8Array>;
  /** How many corrections trained it (its held-out ones judged it and are not counted). */
  corrections: number;
  /** Macro-F1 on a dev file, of the model live before and of this one; null: no dev file was given. */
  dev_before: Nullable<number>;
  dev_after: Nullable<number>;
  /** As mentions' sentiment_model names it; null on rows saved before 0013. */
  model_name: Nullable<string>;
  /** What it was measured on when it was accepted; null: not measured (saved before 0013, or with --force and nothing held out). */
  measured_on: Nullable<SentimentMeasuredOn>;
  measured_size: Nullable<number>;
  measured_accuracy: Nullable<number>;
  measured_macro_f1: Nullable<number>;
  /** The model live when it was judged, and its scores on the same texts. */
  live_model: Nullable<string>;
  live_accuracy: Nullable<number>;
  live_macro_f1: Nullable<number>;
  created_at: Timestamp;
}

export type SentimentMeasuredOn = 'held_out_corrections' | 'dev_file';

type Nullable<T> = ColumnType<T | null, T | null | undefined, T | null>;
type NullableTimestampOpt = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface TicketTable {
  id: Generated<string>;
  /** The change feed's cursor: a new value on every change, taken in commit order. */
  seq: ColumnType<string, string, string>;
  /** For If-Match: one up on every change. */
  version: ColumnType<number, number | undefined, number>;
  mention_id: string;
  brand_id: number;
  team: string;
  status: TicketStatus;
  priority: TicketPriority;
  assignee: Nullable<string>;
  /** Why the status is what it is, when the system set it: answered_on_source, not_actionable… */
  status_reason: Nullable<string>;
  /** The routing rule that chose the team and destinations. */
  routed_by: Nullable<string>;
  /** Helpdesks and channels the ticket goes to; null: every configured one (tickets older than routing). */
  helpdesks: Nullable<string[]>;
  channels: Nullable<string[]>;
  title: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** One open ticket per cluster; null for tickets opened before clusters existed. */
  cluster_id: ColumnType<string | null, string | null | undefined, string | null>;
  first_response_at: NullableTimestampOpt;
  solved_at: NullableTimestampOpt;
  first_response_due_at: NullableTimestampOpt;
  resolution_due_at: NullableTimestampOpt;
  first_response_warn_at: NullableTimestampOpt;
  resolution_warn_at: NullableTimestampOpt;
  /** Set while the ticket is pending: the SLA clocks stand still. */
  sla_paused_at: NullableTimestampOpt;
  sla_warned: ColumnType<SlaMetric[], SlaMetric[] | undefined, SlaMetric[]>;
  sla_breached: ColumnType<SlaMetric[], SlaMetric[] | undefined, SlaMetric[]>;
  /** The crisis incident the ticket's mention belongs to (migration 0010): its own alerts are held back. */
  incident_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface TicketHistoryTable {
  id: Generated<string>;
  ticket_id: string;
  seq: string;
  version: number;
  /** created, status, assignment, priority, team, copy_joined, answered_on_source, sla_warning, sla_breached… */
  kind: string;
  /** Who: apikey:<name>, a person's name, helpdesk:<id>, or system. */
  actor: string;
  changes: Json<Record<string, unknown>>;
  note: string | null;
  at: Timestamp;
}

export interface TicketLinkTable {
  ticket_id: string;
  helpdesk_id: string;
  /** The helpdesk's own id of our ticket. */
  external_id: string;
  external_status: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface IdempotencyKeyTable {
  api_key_id: number;
  key: string;
  request_hash: string;
  status: number;
  response: Json<unknown>;
  created_at: Timestamp;
}

export interface OutboxTable {
  id: Generated<string>;
  message_id: string;
  destination_kind: 'helpdesk' | 'channel';
  destination_id: string;
  event_type: string;
  ticket_id: string | null;
  payload: Json<Record<string, unknown>>;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: Timestamp;
  last_attempt_at: NullableTimestamp;
  last_status: number | null;
  last_error: string | null;
  delivered_at: NullableTimestamp;
  created_at: Timestamp;
  /** How often a worker took the row to send it; more claims than attempts: an outcome was never recorded. */
  claims: ColumnType<number, number | undefined, number>;
  /** `ticket:<id>` or `incident:<id>`: rows of one subject for one destination go out in order (migration 0010). */
  subject: ColumnType<string | null, string | null | undefined, string | null>;
}

/** One row per helpdesk or channel that a delivery was tried to (migration 0009). */
export interface DestinationHealthTable {
  destination_kind: OutboxRow['destination_kind'];
  destination_id: string;
  consecutive_failures: ColumnType<number, number | undefined, number>;
  failing_since: NullableTimestampOpt;
  last_success_at: NullableTimestampOpt;
  last_failure_at: NullableTimestampOpt;
  last_error: Nullable<string>;
  last_status: Nullable<number>;
}

export interface AlertTable {
  id: Generated<string>;
  kind: string;
  channel_id: string;
  ticket_id: string | null;
  target_id: string | null;
  brand_id: number | null;
  outbox_id: string;
  created_at: Timestamp;
  incident_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Held until the end of the channel's quiet hours. */
  held_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface IncidentTable {
  id: Generated<string>;
  brand_id: number;
  scope: string;
  status: 'open' | 'acknowledged' | 'resolved';
  severity: 'warning' | 'critical';
  opened_at: Timestamp;
  escalated_at: NullableTimestamp;
  escalation_reason: 'severity' | 'unacknowledged' | null;
  acknowledged_at: NullableTimestamp;
  acknowledged_by: string | null;
  resolved_at: NullableTimestamp;
  resolved_by: string | null;
  resolution_note: string | null;
  state: Json<Record<string, unknown>>;
  explanation: Json<Record<string, unknown>>;
  updated_at: Timestamp;
}

export const USER_ROLES = ['admin', 'agent', 'viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export interface UserTable {
  id: Generated<number>;
  email: string;
  role: UserRole;
  password_hash: string;
  locale: 'ru' | 'en' | null;
  created_at: Timestamp;
  /** Who created the user: "cli", or "user:<email>" of the admin who invited them. */
  created_by: string;
  disabled_at: NullableTimestamp;
  last_login_at: NullableTimestamp;
  /** Failed sign-ins since the last good one. */
  failed_logins: ColumnType<number, number | undefined, number>;
  locked_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface SessionTable {
  token_hash: string;
  user_id: number;
  csrf_token: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  last_seen_at: Timestamp;
}

export interface ChannelCardTable {
  channel_id: string;
  subject: string;
  card: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ApiKeyTable {
  id: Generated<number>;
  name: string;
  prefix: string;
  key_hash: string;
  scopes: Json<string[]>;
  created_at: CreatedAt;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

export interface Database {
  brands: BrandTable;
  targets: TargetTable;
  crawl_runs: CrawlRunTable;
  mentions: MentionTable;
  tickets: TicketTable;
  ticket_history: TicketHistoryTable;
  ticket_links: TicketLinkTable;
  idempotency_keys: IdempotencyKeyTable;
  destination_health: DestinationHealthTable;
  outbox: OutboxTable;
  alerts: AlertTable;
  api_keys: ApiKeyTable;
  mention_corrections: MentionCorrectionTable;
  sentiment_models: SentimentModelTable;
  clusters: ClusterTable;
  target_brands: TargetBrandTable;
  mention_brands: MentionBrandTable;
  processes: ProcessTable;
  job_leases: JobLeaseTable;
  host_slots: HostSlotTable;
  incidents: IncidentTable;
  channel_cards: ChannelCardTable;
  users: UserTable;
  sessions: SessionTable;
}

export type Mention = Selectable<MentionTable>;
export type NewMention = Insertable<MentionTable>;
export type Ticket = Selectable<TicketTable>;
export type Target = Selectable<TargetTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type CrawlRun = Selectable<CrawlRunTable>;
export type MentionCorrection = Selectable<MentionCorrectionTable>;
export type SentimentModel = Selectable<SentimentModelTable>;
