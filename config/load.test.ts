import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ConfigError, configJsonSchema, interpolateString, loadConfig, parseConfig } from './load.ts';
import { redactConfig } from './redact.ts';
import type { ConfigCrawlers } from './schema.ts';
import { markSecret } from '../lib/secret.ts';

// These tests bring their own crawlers, so they run whatever state the real registry is in.
vi.mock('../crawlers/registry.ts', () => ({ crawlers: {}, findCrawler: () => undefined }));

const crawlers: ConfigCrawlers = {
  rss: {
    target: z.object({
      url: z.url().optional(),
      googleNews: z.object({ query: z.string(), language: z.string(), country: z.string() }).optional(),
    }),
    defaultSchedule: '*/30 * * * *',
  },
  'app-store': {
    target: z.object({
      appId: z.string().regex(/^\d+$/),
      country: z.string().length(2).default('us'),
      apiToken: markSecret(z.string()).optional(),
    }),
    defaultSchedule: '0 */6 * * *',
  },
  vk: {
    target: z.object({ query: z.string() }),
    defaultSchedule: '0 * * * *',
    expectedQuietDays: 7,
    credentials: { schema: z.object({ accessToken: markSecret(z.string().min(1)) }) },
  },
};


const minimal = (extra = '') => `
brands:
  - name: Ромашка
    keywords: [ромашка, romashka]
teams:
  - id: support
    name: Customer support
routing:
  defaultTeam: support
${extra}`;

function catchConfigError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const issuesOf = (text: string, env: Record<string, string> = {}) =>
  catchConfigError(() => parseConfig(text, { env, crawlers })).issues;

describe('loadConfig', () => {
  it('names the file when it cannot be read', () => {
    const error = catchConfigError(() => loadConfig('/nonexistent/earshot.yaml', { env: {}, crawlers }));
    expect(error.message).toMatch(/^invalid config \/nonexistent\/earshot.yaml, 1 problem:\n\/nonexistent\/earshot.yaml: cannot read the config file: ENOENT/);
  });
});

describe('parseConfig', () => {
  it('applies defaults: enabled, the crawler schedule and params, empty channels, delivery policy', () => {
    const config = parseConfig(
      minimal(`targets:
  - id: app
    source: app-store
    brand: Ромашка
    params: {appId: "284815942"}`),
      { crawlers },
    );
    expect(config.targets).toEqual([
      { id: 'app', source: 'app-store', brands: ['Ромашка'], enabled: true, schedule: '0 */6 * * *', expectedQuietDays: 14, params: { appId: '284815942', country: 'us' } },
    ]);
    expect(config.channels).toEqual([]);
    expect(config.helpdesks).toEqual([]);
    expect(config.delivery.maxAttempts).toBe(8);
  });

  const broken = `brands:
  - name: Ромашка
    keywords: [ромашка, romashka]
teams:
  - id: support
    name: Customer support
routing:
  defaultTeam: sales
targets:
  - id: news
    source: rss
    brand: Romashka
    params: {url: "https://example.com/feed.xml"}
  - id: feed
    source: rss
    brand: Ромашка
    params: {url: "not a url"}
  - id: fast
    source: rss
    brand: Ромашка
    schedule: "*/61 * * * *"
  - id: news
    source: rss
    brand: Ромашка
  - id: tw
    source: twitter
    brand: Ромашка
    shedule: "0 * * * *"
channels:
  - id: ops
    type: webhook
    url: https://hooks.example.com/earshot
    secret: \${EARSHOT_ALERT_SECRET}
  - id: chat
    type: pagerduty
`;

  it('reports every problem at once with its path and line', () => {
    const error = catchConfigError(() => parseConfig(broken, { env: {}, crawlers, file: 'config/earshot.yaml' }));
    expect(error.issues.map(({ line, path, message }) => ({ line, path, message }))).toEqual([
      { line: 8, path: 'routing.defaultTeam', message: 'unknown team "sales" (teams: support)' },
      { line: 12, path: 'targets[0].brand', message: 'unknown brand "Romashka" (brands: Ромашка)' },
      { line: 17, path: 'targets[1].params.url', message: 'Invalid URL' },
      { line: 21, path: 'targets[2].schedule', message: 'invalid cron expression "*/61 * * * *" (minute step 61 is out of range 1-59)' },
      { line: 22, path: 'targets[3].id', message: 'duplicate id "news"' },
      { line: 26, path: 'targets[4].source', message: 'unknown source "twitter" (sources: rss, app-store, vk)' },
      { line: 28, path: 'targets[4].shedule', message: 'unknown key' },
      { line: 33, path: 'channels[0].secret', message: 'environment variable EARSHOT_ALERT_SECRET is not set' },
      { line: 35, path: 'channels[1].type', message: 'unknown type "pagerduty" (types: webhook, telegram, slack, email)' },
    ]);
  });

  it('lists the problems one per line in the message, file:line:column first', () => {
    const error = catchConfigError(() => parseConfig(broken, { env: {}, crawlers, file: 'config/earshot.yaml' }));
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('invalid config config/earshot.yaml, 9 problems:');
    expect(lines).toContain('config/earshot.yaml:21:5: targets[2].schedule: invalid cron expression "*/61 * * * *" (minute step 61 is out of range 1-59)');
    expect(lines).toContain('config/earshot.yaml:33:5: channels[0].secret: environment variable EARSHOT_ALERT_SECRET is not set');
    expect(lines).toHaveLength(10);
  });

  it('refuses a feed, webhook or SMTP server at a metadata or link-local address with its line, and a private one unless allowed', () => {
    const targets = `targets:
  - id: meta
    source: rss
    params: { url: "http://169.254.169.254/latest/meta-data/" }
  - id: mirror
    source: rss
    params: { url: "http://10.0.0.7/feed.xml" }
channels:
  - { id: hook, type: webhook, url: "http://[fe80::1]/alerts", secret: a-long-enough-secret }
  - { id: mail, type: email, smtp: "smtp://user:p4ss@metadata.google.internal:25", from: earshot@acme.kz, to: [pr@acme.kz] }
`;
    expect(issuesOf(minimal(targets)).map(({ line, path, message }) => ({ line, path, message }))).toEqual([
      { line: 13, path: 'targets[0].params.url', message: '169.254.169.254 is a cloud metadata address: earshot never connects there' },
      { line: 16, path: 'targets[1].params.url', message: '10.0.0.7 is a private or loopback address: refused unless the config says network: { allowPrivate: true }' },
      { line: 18, path: 'channels[0].url', message: 'fe80::1 is a link-local, multicast or reserved address: earshot never connects there' },
      { line: 19, path: 'channels[1].smtp', message: 'metadata.google.internal is a cloud metadata service: earshot never connects there' },
    ]);
    // Allowed private addresses pass; metadata and link-local never do.
    const allowed = issuesOf(minimal(`network: { allowPrivate: true }\n${targets}`)).map((i) => i.path);
    expect(allowed).toEqual(['targets[0].params.url', 'channels[0].url', 'channels[1].smtp']);
    expect(parseConfig(minimal(), { env: {}, crawlers }).network).toEqual({ allowPrivate: false });
  });

  it('carries the line of YAML syntax errors', () => {
    const issues = issuesOf(minimal('targets:\n  - id: a\n     source: rss\n'));
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]).toMatchObject({ path: '', line: 11 });
    expect(issues[0]?.message).toMatch(/^YAML: /);
  });

  it('reports a brand query or target exclusion with a syntax error at its line, naming the column', () => {
    const text = `
brands:
  - name: Ромашка
    keywords: [ромашка]
    aliases: [romashka]
    query: 'ромашка AND (чай OR'
teams:
  - id: support
    name: Customer support
routing:
  defaultTeam: support
targets:
  - id: own-app
    source: rss
    brand: Ромашка
    exclude: 'вакансия NEAR/ резюме'
    params: {url: "https://example.com/feed.xml"}
`;
    const issues = issuesOf(text);
    expect(issues.map(({ path, line }) => ({ path, line }))).toEqual([
      { path: 'brands[0].query', line: 6 },
      { path: 'targets[0].exclude', line: 16 },
    ]);
    expect(issues[0]!.message).toMatch(/^query syntax: column \d+: /);
    expect(issues[1]!.message).toMatch(/^query syntax: column 10: NEAR needs a distance/);
  });

  it('refuses strings the store cannot keep (a NUL, a lone surrogate) with their path and line', () => {
    const text = minimal().replace('keywords: [ромашка, romashka]', 'keywords: [ромашка, "roma\\0shka"]\n    aliases: ["\\ud800"]');
    const issues = issuesOf(text);
    expect(issues).toEqual([
      { path: 'brands[0].keywords[1]', line: 4, column: 25, message: 'contains a NUL character (at offset 4)' },
      { path: 'brands[0].aliases[0]', line: 5, column: 15, message: 'is not valid Unicode (a lone surrogate, which UTF-8 cannot hold)' },
    ]);
  });

  it('refuses duplicate keys with the line', () => {
    const issues = issuesOf(minimal('routing:\n  defaultTeam: support\n'));
    expect(issues).toEqual([{ path: '', line: 10, column: 1, message: 'YAML: Map keys must be unique' }]);
  });

  it('points a missing field at the item that lacks it', () => {
    const issues = issuesOf(minimal('targets:\n  - id: a\n    brand: Ромашка\n'));
    expect(issues).toEqual([{ path: 'targets[0].source', line: 11, column: 5, message: 'required' }]);
  });

  it('reports an empty file and empty lists', () => {
    expect(issuesOf('')).toEqual([
      { path: '', line: null, column: null, message: expect.stringMatching(/^the file is empty: expected a mapping with brands/) },
    ]);
    const issues = issuesOf('brands: []\nteams: []\nrouting: {defaultTeam: support}\n');
    expect(issues.map(({ path, line, message }) => ({ path, line, message }))).toEqual([
      { path: 'brands', line: 1, message: 'needs at least one brand' },
      { path: 'teams', line: 2, message: 'needs at least one team' },
    ]);
  });

  it('checks ids, keywords, names and team references', () => {
    const issues = issuesOf(`brands:
  - name: Ромашка
    keywords: ["  "]
  - name: Ромашка
    keywords: []
teams:
  - id: Support Team
    name: Support
routing:
  defaultTeam: support
`);
    expect(issues.map(({ path, line, message }) => ({ path, line, message }))).toEqual([
      { path: 'brands[0].keywords[0]', line: 3, message: 'must not be empty' },
      { path: 'brands[1].name', line: 4, message: 'duplicate name "Ромашка"' },
      { path: 'brands[1].keywords', line: 5, message: 'needs at least one keyword' },
      { path: 'teams[0].id', line: 7, message: 'must be lowercase letters, digits, "-" or "_"' },
      { path: 'routing.defaultTeam', line: 10, message: 'unknown team "support" (teams: Support Team)' },
    ]);
  });

  it('validates webhook secrets without echoing them', () => {
    const channel = (secret: string) =>
      minimal(`channels:\n  - id: ops\n    type: webhook\n    url: https://hooks.example.com/x\n    secret: "${secret}"\n`);
    expect(issuesOf(channel('short-secret'))).toEqual([
      { path: 'channels[0].secret', line: 14, column: 5, message: 'must be "whsec_" + base64 (Standard Webhooks) or at least 16 characters' },
    ]);
    expect(issuesOf(channel('whsec_not base64!'))[0]?.message).toBe('after "whsec_" the secret must be base64');
    expect((parseConfig(channel('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), { crawlers }).channels[0] as { secret?: string } | undefined)?.secret).toBe(
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    );
    expect(parseConfig(channel('a-long-enough-shared-secret'), { crawlers }).channels).toHaveLength(1);
  });

  it('checks the delivery policy', () => {
    const issues = issuesOf(minimal('delivery:\n  maxAttempts: 21\n  initialDelaySeconds: 60\n  maxDelaySeconds: 30\n'));
    expect(issues.map(({ path, line }) => ({ path, line }))).toEqual([
      { path: 'delivery.maxAttempts', line: 11 },
      { path: 'delivery.maxDelaySeconds', line: 13 },
    ]);
    expect(issues[1]?.message).toBe('must be at least initialDelaySeconds (60)');
  });

  it('reports a broken default schedule of a crawler on the target that relies on it', () => {
    const broken = { ...crawlers, rss: { target: z.object({}), defaultSchedule: '*/90 * * * *' } };
    const error = catchConfigError(() =>
      parseConfig(minimal('targets:\n  - id: a\n    source: rss\n    brand: Ромашка\n'), { crawlers: broken }),
    );
    expect(error.issues[0]?.path).toBe('targets[0].schedule');
    expect(error.issues[0]?.message).toMatch(/^default schedule of source rss: invalid cron expression/);
  });

  it('resolves aliases and merge keys', () => {
    const config = parseConfig(
      minimal(`targets:
  - &app
    id: app-kz
    source: app-store
    brand: Ромашка
    params: {appId: "1", country: kz}
  - <<: *app
    id: app-ru
    params: {appId: "1", country: ru}`),
      { crawlers },
    );
    expect(config.targets.map((target) => [target.id, target.params.country])).toEqual([
      ['app-kz', 'kz'],
      ['app-ru', 'ru'],
    ]);
  });
});

describe('environment interpolation', () => {
  const withChannel = (url: string, secret: string) =>
    minimal(`channels:\n  - id: ops\n    type: webhook\n    url: ${url}\n    secret: ${secret}\n`);

  it('replaces ${VAR}, takes ${VAR:-default}, and keeps $${ literal', () => {
    const config = parseConfig(withChannel('https://${HOOK_HOST}/x?q=$${raw}', '${SECRET:-a-default-secret-of-length}'), {
      env: { HOOK_HOST: 'hooks.example.com' },
      crawlers,
    });
    expect(config.channels[0]).toHaveProperty('url', 'https://hooks.example.com/x?q=${raw}');
    expect(config.channels[0]).toHaveProperty('secret', 'a-default-secret-of-length');
  });

  it('reports each missing variable at its path', () => {
    const issues = issuesOf(withChannel('${HOOK_URL}', '${SECRET}'));
    expect(issues).toEqual([
      { path: 'channels[0].url', line: 13, column: 5, message: 'environment variable HOOK_URL is not set' },
      { path: 'channels[0].secret', line: 14, column: 5, message: 'environment variable SECRET is not set' },
    ]);
  });

  it('turns an unquoted interpolated number into a number, a quoted one stays a string', () => {
    expect(parseConfig(minimal('delivery:\n  maxAttempts: ${ATTEMPTS:-3}\n'), { env: {}, crawlers }).delivery.maxAttempts).toBe(3);
    expect(issuesOf(minimal('delivery:\n  maxAttempts: "${ATTEMPTS:-3}"\n'))[0]?.path).toBe('delivery.maxAttempts');
  });

  it.each([
    ['plain text', {}, 'plain text', []],
    ['${A}', { A: 'x' }, 'x', []],
    ['a${A}b${B}c', { A: '1', B: '2' }, 'a1b2c', []],
    ['${A:-fallback}', {}, 'fallback', []],
    ['${A:-fallback}', { A: '' }, 'fallback', []],
    ['${A:-}', {}, '', []],
    ['${A}', { A: '' }, '', []],
    ['${A:-x:-y}', {}, 'x:-y', []],
    ['cost $5', {}, 'cost $5', []],
    ['$${A}', { A: 'x' }, '${A}', []],
    ['$$${A}', { A: 'x' }, '$${A}', []],
    ['${A}', {}, '', ['environment variable A is not set']],
    ['${1A}', {}, '', ['invalid variable reference "${1A}" (expected ${NAME} or ${NAME:-default})']],
    ['${A', {}, '', ['unclosed "${" (write "$${" for a literal "${")']],
  ])('interpolates %j', (text, env, value, errors) => {
    const result = interpolateString(text, env);
    expect(result.errors).toEqual(errors);
    if (errors.length === 0) expect(result.value).toBe(value);
  });
});

describe('redactConfig', () => {
  it('hides every secret and leaves the rest and the original alone', () => {
    const config = parseConfig(
      minimal(`targets:
  - id: app
    source: app-store
    brand: Ромашка
    params: {appId: "1", apiToken: tok-123}
channels:
  - id: ops
    type: webhook
    url: https://hooks.example.com/x
    secret: channel-secret-0123456789
helpdesks:
  - id: desk
    type: webhook
    url: https://desk.example.com/x
    secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
`),
      { crawlers },
    );
    const redacted = redactConfig(config, { crawlers });
    expect(redacted.channels[0]).toEqual({ ...config.channels[0], secret: '***' });
    expect(redacted.helpdesks[0]).toEqual({ ...config.helpdesks[0], secret: '***' });
    expect(redacted.targets[0]?.params).toEqual({ appId: '1', country: 'us', apiToken: '***' });
    expect(redacted.brands).toEqual(config.brands);
    expect(JSON.stringify(redacted)).not.toMatch(/channel-secret|whsec_|tok-123/);
    expect(config.channels[0]).toHaveProperty('secret', 'channel-secret-0123456789');
  });

  it("hides each channel type's own secrets: a Slack webhook URL and a bot token, not a webhook's URL", () => {
    const config = parseConfig(
      minimal(`channels:
  - { id: ops, type: webhook, url: "https://hooks.example.com/x", secret: channel-secret-0123456789 }
  - { id: sl, type: slack, url: "https://hooks.slack.com/services/T0/B0/secret-path" }
  - { id: tg, type: telegram, botToken: "123456:ABC-secret-token", chatId: "-1001234567890" }
`),
      { crawlers },
    );
    const redacted = redactConfig(config, { crawlers });
    expect(redacted.channels.map((c) => ('url' in c ? c.url : null))).toEqual(['https://hooks.example.com/x', '***', null]);
    expect(redacted.channels[2]).toMatchObject({ botToken: '***', chatId: '-1001234567890' });
    expect(JSON.stringify(redacted)).not.toMatch(/secret-path|ABC-secret-token|channel-secret/);
  });
});

describe('credentials, teams and quiet periods of targets', () => {
  const withVk = (extra: string) =>
    minimal(`targets:
  - id: vk-search
    source: vk
    brand: Ромашка
    team: support
    params: { query: ромашка }
${extra}`);

  it('checks credentials against the source\'s own schema and keeps them out of redacted output', () => {
    const config = parseConfig(withVk('credentials:\n  vk: { accessToken: "${VK_TOKEN}" }'), { crawlers, env: { VK_TOKEN: 'vk1.a.secret' } });
    expect(config.credentials).toEqual({ vk: { accessToken: 'vk1.a.secret' } });
    expect(config.targets[0]).toMatchObject({ team: 'support', expectedQuietDays: 7 });
    expect(JSON.stringify(redactConfig(config, { crawlers }))).not.toContain('vk1.a.secret');
    expect(redactConfig(config, { crawlers }).credentials).toEqual({ vk: { accessToken: '***' } });
  });

  it('reports unknown credential sources, bad credentials and unknown teams with their lines', () => {
    const text = withVk(`credentials:
  vk: { accessToken: "" }
  twitter: { key: x }`).replace('team: support', 'team: almaty');
    const issues = issuesOf(text).map((i) => `${i.line}: ${i.path}: ${i.message}`);
    expect(issues).toEqual([
      expect.stringMatching(/^14: targets\[0\]\.team: unknown team "almaty" \(teams: support\)$/),
      expect.stringMatching(/^17: credentials\.vk\.accessToken: .*>=1 characters/),
      expect.stringMatching(/^18: credentials\.twitter: no source "twitter" takes credentials \(sources that do: vk\)$/),
    ]);
  });

  it('lets a target override its source\'s quiet period', () => {
    const config = parseConfig(withVk('').replace('team: support', 'expectedQuietDays: 30'), { crawlers });
    expect(config.targets[0]?.expectedQuietDays).toBe(30);
  });

  it('describes credentials per source in the JSON Schema', () => {
    const schema = configJsonSchema({ crawlers }) as { properties: { credentials: { properties: Record<string, unknown> } } };
    expect(Object.keys(schema.properties.credentials.properties)).toEqual(['vk']);
  });
});

describe('configJsonSchema', () => {
  it('describes the file, with defaults optional and params per source', () => {
    const schema = configJsonSchema({ crawlers }) as {
      properties: Record<string, { items?: { properties: Record<string, unknown>; allOf: unknown[] } }>;
      required: string[];
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['brands', 'teams', 'routing', 'targets', 'channels', 'helpdesks', 'delivery']),
    );
    expect(schema.required.sort()).toEqual(['brands', 'routing', 'teams']);
    const target = schema.properties.targets?.items;
    expect(target?.properties.source).toEqual({ type: 'string', enum: ['rss', 'app-store', 'vk'] });
    expect(target?.allOf).toContainEqual({
      if: { properties: { source: { const: 'app-store' } }, required: ['source'] },
      then: { properties: { params: expect.objectContaining({ required: ['appId'] }) } },
    });
  });
});
