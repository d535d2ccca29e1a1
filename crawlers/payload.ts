// Reading values out of raw source payloads, the same way in every crawler.

/** The JSON a text holds, or undefined when it is not JSON (JSON `null` stays null). */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A date string of the payload as an ISO instant in UTC; null when absent or unreadable. */
export function toIsoDate(value: string | null | undefined): string | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}
