// Names of the API's enums, in both languages: one place, for every page that shows them.
import { defineText, useText } from './i18n.tsx';

export const LABELS = defineText(
  {
    sentiment_negative: 'negative',
    sentiment_neutral: 'neutral',
    sentiment_positive: 'positive',
    sentiment_mixed: 'mixed',
    sentiment_unscored: 'not scored',
    status_new: 'new',
    status_open: 'open',
    status_pending: 'pending',
    status_on_hold: 'on hold',
    status_solved: 'solved',
    status_closed: 'closed',
    status_spam: 'spam',
    status_ignored: 'not relevant',
    priority_low: 'low',
    priority_normal: 'normal',
    priority_high: 'high',
    priority_urgent: 'urgent',
    reason_complaint: 'complaint',
    reason_question: 'question',
    reason_legal_threat: 'legal threat',
    reason_safety: 'safety',
    reason_fraud_claim: 'fraud claim',
    reason_churn_threat: 'threatens to leave',
    reason_praise: 'praise',
    lang_ru: 'Russian',
    lang_kk: 'Kazakh',
    lang_uz: 'Uzbek',
    lang_en: 'English',
    lang_other: 'other language',
  },
  {
    sentiment_negative: 'негатив',
    sentiment_neutral: 'нейтрально',
    sentiment_positive: 'позитив',
    sentiment_mixed: 'смешанное',
    sentiment_unscored: 'не оценено',
    status_new: 'новый',
    status_open: 'открыт',
    status_pending: 'ждёт ответа',
    status_on_hold: 'отложен',
    status_solved: 'решён',
    status_closed: 'закрыт',
    status_spam: 'спам',
    status_ignored: 'не по делу',
    priority_low: 'низкий',
    priority_normal: 'обычный',
    priority_high: 'высокий',
    priority_urgent: 'срочный',
    reason_complaint: 'жалоба',
    reason_question: 'вопрос',
    reason_legal_threat: 'угроза суда',
    reason_safety: 'безопасность',
    reason_fraud_claim: 'мошенничество',
    reason_churn_threat: 'грозит уйти',
    reason_praise: 'похвала',
    lang_ru: 'русский',
    lang_kk: 'казахский',
    lang_uz: 'узбекский',
    lang_en: 'английский',
    lang_other: 'другой язык',
  },
);

export type LabelKey = keyof typeof LABELS.en;

export const SENTIMENTS = ['negative', 'neutral', 'positive', 'mixed'] as const;
export const TICKET_STATUSES = ['new', 'open', 'pending', 'on_hold', 'solved', 'closed', 'spam', 'ignored'] as const;
export const REASONS = ['complaint', 'question', 'legal_threat', 'safety', 'fraud_claim', 'churn_threat', 'praise'] as const;
export const LANGS = ['ru', 'kk', 'uz', 'en'] as const;

export type LabelKind = 'sentiment' | 'status' | 'priority' | 'reason' | 'lang';

/** The name of an enum value in the user's language; the raw value for one we have no name for. */
export function useLabel(): (kind: LabelKind, value: string) => string {
  const t = useText(LABELS);
  return (kind, value) => {
    const key = `${kind}_${value}`;
    return key in LABELS.en ? t(key as LabelKey) : value;
  };
}
