// Plain text every connector renders the same way, before its own escaping.

/** A review's stars: "★☆☆☆☆ (1/5)"; a value off the 1–5 scale is shown as it is. */
export function renderRating(rating: number): string {
  return Number.isInteger(rating) && rating >= 1 && rating <= 5 ? `${'★'.repeat(rating)}${'☆'.repeat(5 - rating)} (${rating}/5)` : String(rating);
}
