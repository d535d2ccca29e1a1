// Plain text every connector renders the same way, before its own escaping.

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
