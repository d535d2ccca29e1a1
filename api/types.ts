import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Destination } from '../delivery/outbox.ts';
import type { Db } from '../store/connect.ts';
import type { TicketPolicy } from '../pipeline/ticket-policy.ts';
import type { CompiledQuery } from '../pipeline/query.ts';

export interface ApiDeps {
  db: Db;
  /** Routing for tickets a person opens by marking a mention actionable; null: no ticket is opened. */
  ticketPolicy: TicketPolicy | null;
  /** The configured helpdesks and channels, for the webhooks helpdesks send back; absent: none is taken. */
  destinationOf?: ((kind: 'helpdesk' | 'channel', id: string) => Destination | undefined) | undefined;
  storeKind: 'pglite' | 'postgres';
  now: () => Date;
  version: string;
  /** Where people reach earshot: incident documents link there. */
  publicUrl?: string | null | undefined;
  /**
   * A brand's compiled query, by name, for the highlights of GET /mentions/{id}; absent, or undefined for a brand:
   * compiled from the brand as the store keeps it, as crawls compile it.
   */
  brandQueries?: ((brand: string) => CompiledQuery | undefined) | undefined;
  /** How often each GET /events stream reads the store for new mentions and ticket changes; default 3000. */
  eventsPollMs?: number | undefined;
}

export type ZodApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;
