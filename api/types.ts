import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Db } from '../store/connect.ts';
import type { TicketPolicy } from '../tickets/open.ts';

export interface ApiDeps {
  db: Db;
  /** Routing for tickets a person opens by marking a mention actionable; null: no ticket is opened. */
  ticketPolicy: TicketPolicy | null;
  storeKind: 'pglite' | 'postgres';
  now: () => Date;
  version: string;
}

export type ZodApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;
