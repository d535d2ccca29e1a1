import { z } from 'zod';
import { authorSchema, sentimentSchema } from '../documents/fields.ts';
import { digestEvent, incidentDocument, incidentEvent } from '../documents/incident.ts';
import { mentionDocument } from '../documents/mention.ts';
import { ticketChangeSchema, ticketDocument, ticketEventSchema } from '../documents/ticket.ts';

/** Schemas named in the OpenAPI components; private, so schemas registered elsewhere never leak in. */
export const apiSchemaRegistry = z.registry<{ id: string; description?: string }>();

// The documents are defined once in documents/, for the API, every outgoing payload and the CLI alike.
apiSchemaRegistry.add(sentimentSchema, { id: 'Sentiment' });
apiSchemaRegistry.add(authorSchema, { id: 'Author' });
apiSchemaRegistry.add(mentionDocument, { id: 'Mention' });
apiSchemaRegistry.add(ticketDocument, { id: 'Ticket' });
apiSchemaRegistry.add(ticketChangeSchema, { id: 'TicketChange' });
apiSchemaRegistry.add(ticketEventSchema, { id: 'TicketEvent' });
apiSchemaRegistry.add(incidentDocument, { id: 'Incident' });
apiSchemaRegistry.add(incidentEvent, { id: 'IncidentEvent' });
apiSchemaRegistry.add(digestEvent, { id: 'DigestEvent' });

/** Envelope shared by the paged list endpoints. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    next_cursor: z.string().nullable().describe('Pass as `cursor` to get the next page; null when there is none'),
    has_more: z.boolean(),
  });
}
