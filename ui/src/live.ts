// New mentions and ticket changes, as the server's event stream reports them (GET /api/v1/events).
import { useEffect, useState } from 'preact/hooks';

export interface LiveChanges {
  /** The newest stored mention id, once the stream said it; null until then. */
  mentionId: string | null;
  ticketSeq: string | null;
}

export function useLiveChanges(): LiveChanges {
  const [state, setState] = useState<LiveChanges>({ mentionId: null, ticketSeq: null });
  useEffect(() => {
    const source = new EventSource('/api/v1/events');
    const take = (e: MessageEvent<string>) => {
      const d = JSON.parse(e.data) as { mention_id: string | null; ticket_seq: string | null };
      setState((s) => (s.mentionId === d.mention_id && s.ticketSeq === d.ticket_seq ? s : { mentionId: d.mention_id, ticketSeq: d.ticket_seq }));
    };
    source.addEventListener('hello', take as EventListener);
    source.addEventListener('changed', take as EventListener);
    return () => source.close();
  }, []);
  return state;
}
