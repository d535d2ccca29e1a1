import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFixtureServer } from '../tests/helpers/fixture-server.ts';
import { createHttpClient } from './http.ts';
import { createRecorder, readRecordedPage } from './record.ts';

const AT = new Date('2026-11-30T09:00:00Z');

describe('record mode', () => {
  it('saves each response with its meta, trimmed of tokens, cookies and credential parameters', async () => {
    const server = await startFixtureServer({
      '/method/newsfeed.search': {
        headers: { 'content-type': 'application/json; charset=utf-8', 'set-cookie': 'remixsid=abc', 'x-trace': '1' },
        body: '{"response":{"items":[],"next_from":"3/-1_2"}}',
      },
      '/api/v1/access_token': {
        headers: { 'content-type': 'application/json' },
        body: '{"access_token": "eyJhbGciOi.secret", "token_type": "bearer", "expires_in": 86400}',
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'earshot-record-'));
    const recorder = createRecorder(dir, () => AT);
    const http = createHttpClient({ perHostPerSecond: 0, onExchange: recorder.onExchange });
    try {
      await http.get(`${server.url}/method/newsfeed.search?q=kaspi&access_token=vk1.a.TOKEN&v=5.199`);
      await http.request(`${server.url}/api/v1/access_token`, {
        method: 'POST',
        body: 'grant_type=client_credentials&client_secret=hunter2',
        headers: { authorization: 'Basic c2VjcmV0', 'content-type': 'application/x-www-form-urlencoded' },
      });
    } finally {
      await http.close();
      await server.close();
    }
    expect(readdirSync(dir).sort()).toEqual(['001-127.0.0.1.json', '001-127.0.0.1.meta.json', '002-127.0.0.1.json', '002-127.0.0.1.meta.json']);
    const all = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    for (const secret of ['vk1.a.TOKEN', 'eyJhbGciOi', 'hunter2', 'c2VjcmV0', 'remixsid']) expect(all).not.toContain(secret);

    const search = readRecordedPage(join(dir, '001-127.0.0.1.json'));
    expect(search).toMatchObject({ status: 200, contentType: 'application/json; charset=utf-8', cursor: null, requestBody: null });
    expect(search.url).toBe(`${server.url}/method/newsfeed.search?q=kaspi&access_token=***&v=5.199`);
    expect(JSON.parse(search.body)).toEqual({ response: { items: [], next_from: '3/-1_2' } });
    const meta = JSON.parse(readFileSync(join(dir, '002-127.0.0.1.meta.json'), 'utf8')) as Record<string, unknown>;
    expect(meta).toMatchObject({
      method: 'POST',
      requestBody: 'grant_type=client_credentials&client_secret=***',
      headers: { 'content-type': 'application/json' },
      recordedAt: AT.toISOString(),
    });
    expect(JSON.parse(readRecordedPage(join(dir, '002-127.0.0.1.json')).body)).toMatchObject({ access_token: '***', expires_in: 86400 });
  });

  it('reads a file without meta as itself, with its own file URL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'earshot-record-'));
    const file = join(dir, 'saved.html');
    writeFileSync(file, '<html>Отзывы</html>');
    expect(readRecordedPage(file)).toEqual({ url: `file://${file}`, status: 200, contentType: null, body: '<html>Отзывы</html>', cursor: null });
  });
});
