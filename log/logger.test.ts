import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { isSecretParam, redactSecrets } from './redact.ts';

describe('logger', () => {
  it('redacts credential-named query values and earshot keys, and keeps every other value', () => {
    expect(redactSecrets('/api/v1/mentions?api_key=SECRET&limit=5')).toBe('/api/v1/mentions?api_key=[redacted]&limit=5');
    expect(redactSecrets('/x?view=tickets&access%5Ftoken=SECRET&Signature=SECRET#top')).toBe('/x?view=tickets&access%5Ftoken=[redacted]&Signature=[redacted]#top');
    expect(redactSecrets('/x?k=esk_SECRETSECRET&cursor=abc')).toBe('/x?k=esk_[redacted]&cursor=abc');
    expect(redactSecrets('/x?esk_SECRETSECRET')).toBe('/x?esk_[redacted]');
    expect(redactSecrets('GET https://h.example/feed?client_secret=SECRET&password=SECRET failed')).toBe(
      'GET https://h.example/feed?client_secret=[redacted]&password=[redacted] failed',
    );
    expect(redactSecrets('/x?page=2&brand=Acme&author=Marina')).toBe('/x?page=2&brand=Acme&author=Marina');
  });

  it('knows credential parameters by name, and leaves the look-alikes', () => {
    for (const name of ['key', 'api_key', 'apikey', 'X-API-Key', 'access_token', 'refresh_token', 'token', 'client_secret', 'password', 'passwd', 'sig', 'signature']) {
      expect(isSecretParam(name), name).toBe(true);
    }
    for (const name of ['author', 'keyword', 'cursor', 'limit', 'locale', 'sort_by', 'q', 'v']) expect(isSecretParam(name), name).toBe(false);
  });

  it("keeps secrets in messages and errors out of a command's log lines", () => {
    let written = '';
    const log = createLogger({ stream: { write: (line: string) => void (written += line) } });
    log.warn('fetching https://feed.example/rss?token=SECRET');
    log.error({ err: new Error('GET https://api.example/x?access_token=SECRET: 401') }, 'calling out failed');
    log.info({ target: 'rss' }, 'crawled %s', 'https://feed.example/rss?apikey=SECRET');
    log.error(new Error('POST https://hooks.example/in?sig=SECRET refused'));
    log.error({ err: new Error('GET https://hooks.example/in?password=SECRET refused') });
    expect(written.split('\n').filter(Boolean)).toHaveLength(5);
    expect(written).toContain('"msg":"POST https://hooks.example/in?sig=[redacted] refused"');
    expect(written).toContain('token=[redacted]');
    expect(written).not.toContain('SECRET');
  });
});
