import { emailConnector } from './email.ts';
import type { Connector } from './types.ts';
import { slackConnector } from './slack.ts';
import { telegramConnector } from './telegram.ts';
import { usedeskConnector } from './usedesk.ts';
import { webhookConnector } from './webhook.ts';
import { zendeskConnector } from './zendesk.ts';

/** Every kind of destination, by the `type` of its config entry. Adding one is a line here and its config variant. */
export const connectors: Readonly<Record<string, Connector<any>>> = { // eslint-disable-line @typescript-eslint/no-explicit-any
  webhook: webhookConnector,
  usedesk: usedeskConnector,
  zendesk: zendeskConnector,
  telegram: telegramConnector,
  slack: slackConnector,
  email: emailConnector,
};

/** The connector of a config entry; the config schema only admits known types. */
export function connectorOf(type: string): Connector<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const connector = Object.hasOwn(connectors, type) ? connectors[type] : undefined;
  if (!connector) throw new Error(`unreachable: no connector of type ${type}`);
  return connector;
}
