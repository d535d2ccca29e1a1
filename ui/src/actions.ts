// Every triage decision, one mention or fifty, goes through the one bulk endpoint.
import { api, problemText } from './api.ts';
import type { paths } from './generated/api.ts';

export type InboxAction = 'solve' | 'assign_me' | 'unassign' | 'not_relevant' | 'needs_reply' | 'sentiment';
export type SentimentChoice = 'negative' | 'neutral' | 'positive' | 'mixed';
export type ActionResult = paths['/api/v1/inbox/actions']['post']['responses'][200]['content']['application/json']['results'][number];

export async function applyAction(
  mentionIds: readonly string[],
  action: InboxAction,
  label?: SentimentChoice,
): Promise<{ results: ActionResult[]; error: string | null }> {
  const { data, error } = await api.POST('/api/v1/inbox/actions', {
    body: { mention_ids: [...mentionIds], action, ...(label ? { label } : {}) },
  });
  if (!data) return { results: [], error: problemText(error, 'The action failed.') };
  return { results: data.results, error: null };
}
