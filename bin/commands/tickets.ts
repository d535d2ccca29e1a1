import { parseArgs } from 'node:util';
import { formatTickets, type TicketDocument } from '../../documents/ticket.ts';
import { TICKET_STATUSES, type TicketStatus } from '../../store/schema.ts';
import { listRecentTickets } from '../../store/ticket-feed.ts';
import type { CommandContext } from '../context.ts';
import { UsageError } from '../usage-error.ts';

/**
 * `earshot tickets [--status S] [--limit N] [--json]`: the latest changed tickets, as a table or one ticket
 * document a line (the same document the API and every payload carry).
 */
export async function commandTickets(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { json: { type: 'boolean', default: false }, status: { type: 'string' }, limit: { type: 'string', default: '50' } },
  });
  const status = values.status;
  if (status !== undefined && !(TICKET_STATUSES as readonly string[]).includes(status)) {
    throw new UsageError(`--status "${status}": one of ${TICKET_STATUSES.join(', ')}`);
  }
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit "${values.limit}": a whole number from 1 to 1000`);
  const { db } = await ctx.runtime.store();
  const tickets = await formatTickets(db, await listRecentTickets(db, { limit, status: status as TicketStatus | undefined }));
  if (values.json) {
    for (const t of tickets) ctx.io.out(`${JSON.stringify(t)}\n`);
  } else {
    ctx.io.out(formatTicketsTable(tickets));
  }
  return 0;
}

function formatTicketsTable(tickets: readonly TicketDocument[]): string {
  if (tickets.length === 0) return 'no tickets yet\n';
  const header = ['ID', 'STATUS', 'PRIORITY', 'TEAM', 'FIRST RESPONSE DUE', 'SLA', 'HELPDESKS', 'TITLE'];
  const rows = tickets.map((t) => [
    t.id,
    t.status_reason ? `${t.status} (${t.status_reason})` : t.status,
    t.priority,
    t.team,
    t.first_response_at ? 'answered' : (t.first_response_due_at ?? '-'),
    t.breached ? `breached: ${t.breaches.join(', ')}` : t.sla_paused ? 'paused' : 'ok',
    t.external.map((e) => `${e.helpdesk}#${e.id}`).join(' ') || '-',
    t.title.length > 70 ? `${t.title.slice(0, 69)}…` : t.title,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
