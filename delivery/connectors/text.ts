// Plain text every connector renders the same way, before its own escaping, and reading the message bodies.

/** A JSON object of a message body, or null for anything else. */
export function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** One line: newlines and runs of spaces (which would fold a header, break a table cell or a list item) become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** A review's stars: "★☆☆☆☆ (1/5)"; a value off the 1–5 scale is shown as it is. */
export function renderRating(rating: number): string {
  return Number.isInteger(rating) && rating >= 1 && rating <= 5 ? `${'★'.repeat(rating)}${'☆'.repeat(5 - rating)} (${rating}/5)` : String(rating);
}

/** Paragraphs kept: runs of blank lines become one blank line, trailing spaces dropped. */
export function tidyText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n\s*\n/)
    .map((p) => p.split('\n').map((l) => l.trimEnd()).join('\n').trim())
    .filter((p) => p !== '')
    .join('\n\n');
}
