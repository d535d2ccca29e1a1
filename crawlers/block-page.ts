/**
 * Captcha and block pages that sources serve instead of content. Each marker is a string a real
 * interstitial carries in its markup or wording; a match means "blocked", never "zero results".
 */
const BLOCK_MARKERS: readonly { pattern: RegExp; reason: string }[] = [
  { pattern: /<[^>]+class=["'][^"']*g-recaptcha|www\.google\.com\/recaptcha\/|recaptcha\/api\.js/i, reason: 'reCAPTCHA page' },
  { pattern: /hcaptcha\.com\/1\/api\.js|class=["'][^"']*h-captcha/i, reason: 'hCaptcha page' },
  { pattern: /smartcaptcha|showcaptcha|checkcaptcha/i, reason: 'Yandex SmartCaptcha page' },
  { pattern: /our systems have detected unusual traffic|\/sorry\/index/i, reason: 'Google "unusual traffic" page' },
  { pattern: /cf-chl-|challenge-platform|Just a moment\.\.\.|Attention Required/i, reason: 'Cloudflare challenge page' },
  { pattern: /consent\.google\.|Before you continue to Google/i, reason: 'Google consent page' },
  { pattern: /are not a robot|не робот|подозрительный трафик/i, reason: 'robot check page' },
  { pattern: /whoa there, pardner/i, reason: 'Reddit network-policy block page' },
  { pattern: /<title>[^<]*(?:captcha|капча|access denied|доступ ограничен)[^<]*<\/title>/i, reason: 'captcha or access-denied page' },
  { pattern: /<form[^>]+action=["'][^"']*captcha/i, reason: 'captcha form' },
];

/** The reason a page is a captcha or block interstitial, or null when it looks like content. */
export function detectBlockPage(body: string): string | null {
  // Interstitials are small and put their markers near the top; a large content page is not scanned whole.
  const head = body.length > 200_000 ? body.slice(0, 200_000) : body;
  for (const { pattern, reason } of BLOCK_MARKERS) {
    if (pattern.test(head)) return reason;
  }
  return null;
}
