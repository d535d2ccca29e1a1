import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { changeTickets } from '../../pipeline/ticket-changes.ts';
import { inTransaction } from '../../store/connect.ts';
import { findTicketOfHelpdesk, lockTicketSeq, upsertTicketLink } from '../../store/tickets.ts';
import { describeProblems, sendProblem } from '../errors.ts';
import type { ApiDeps, ZodApp } from '../types.ts';

const paramsSchema = z.object({ id: z.string().min(1).max(200).describe('The helpdesk id of the config') });

const answerSchema = z.object({
  accepted: z.number().int().describe('Changes of tickets earshot knows'),
  unknown: z.number().int().describe('Changes of tickets earshot did not open (left alone)'),
});

/**
 * Where a helpdesk reports its ticket changes (Usedesk's API-channel Redirect URL, a Zendesk webhook). It is
 * not behind an API key: each helpdesk proves itself its own way (the channel token in the body, a signature),
 * which its connector checks. The raw body is kept, as signatures are over its exact bytes.
 */
export async function registerHelpdeskHookRoutes(
  app: ZodApp,
  deps: ApiDeps,
): Promise<void> {
  await app.register(async (hooks) => {
    // Every body as its raw text, JSON included: signatures are over the exact bytes.
    hooks.removeAllContentTypeParsers();
    hooks.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1_048_576 }, (_request, body, done) => done(null, body));
    const api = hooks.withTypeProvider<ZodTypeProvider>();
    api.post(
      '/helpdesks/:id/webhook',
      {
        schema: {
          operationId: 'receiveHelpdeskWebhook',
          summary: 'A helpdesk reports a change of one of our tickets',
          description:
            'Usedesk: set the API channel\'s Redirect URL here and tick "change ticket"; the channel token in the ' +
            'body proves it. Zendesk: a webhook signed with its secret, called by a trigger with the body in the ' +
            'README. The new status moves our ticket (leaving "new" is the first response); the helpdesk is not ' +
            'told its own change back.',
          tags: ['tickets'],
          security: [],
          params: paramsSchema,
          response: { 200: answerSchema, ...describeProblems(400, 401, 404, 500) },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const destination = deps.destinationOf?.('helpdesk', id);
        if (!destination?.connector.receive) {
          return sendProblem(request, reply, 404, `No helpdesk "${id}" that reports back is configured.`);
        }
        const rawBody = typeof request.body === 'string' ? request.body : '';
        const now = deps.now();
        const result = destination.connector.receive(destination.config, { headers: request.headers, rawBody }, { now });
        if (!result.ok) return sendProblem(request, reply, result.status, result.error);
        const policy = deps.ticketPolicy;
        let accepted = 0;
        let unknown = 0;
        await inTransaction(deps.db, async (trx) => {
          // The seq lock before any ticket row (the link's insert locks it too), as every ticket writer does.
          await lockTicketSeq(trx);
          for (const change of result.changes) {
            const ticketId = await findTicketOfHelpdesk(trx, id, change.externalId, change.ticketId);
            if (ticketId === undefined) {
              unknown++;
              continue;
            }
            accepted++;
            await upsertTicketLink(trx, { ticketId, helpdeskId: id, externalId: change.externalId, externalStatus: change.externalStatus }, now);
            if (change.status !== null && policy) {
              await changeTickets(trx, [{ ticketId, actor: `helpdesk:${id}`, kind: 'helpdesk_status', helpdesk: id, status: change.status }], { policy, now });
            }
          }
        });
        return { accepted, unknown };
      },
    );
  });
}
