import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, configJsonSchema, loadConfig, parseConfig } from './load.ts';
import { redactConfig } from './redact.ts';
import { crawlers } from '../crawlers/registry.ts';

// Against the real crawler registry: the config and the crawlers must agree on target params.
const examplePath = fileURLToPath(new URL('./earshot.example.yaml', import.meta.url));

const withTargets = (targets: string) => `
brands:
  - name: Ромашка
    keywords: [ромашка, romashka]
teams:
  - id: support
    name: Customer support
routing:
  defaultTeam: support
targets:
${targets}`;

describe('config with the crawler registry', () => {
  it('loads the example file without any environment variable: every source, nothing sent anywhere', () => {
    const config = loadConfig(examplePath, { env: {}, crawlers });
    expect(config.brands[0]?.name).toBe('Жетысу Маркет');
    expect(config.teams.map((team) => team.id)).toEqual(['support', 'smm', 'almaty']);
    expect(config.targets.map((target) => target.source)).toEqual([
      'rss', 'rss', 'app-store', 'app-store', 'google-play', '2gis', 'telegram', 'vk', 'reddit',
    ]);
    const disabled = config.targets.find((target) => target.id === 'app-store-ru');
    expect(disabled).toMatchObject({ enabled: false, schedule: crawlers['app-store']?.defaultSchedule, params: { appId: '284815942', country: 'ru' } });
    expect(config.targets[0]).toMatchObject({ enabled: true, params: { googleNews: { language: 'ru', country: 'KZ' } } });
    expect(config.targets.find((t) => t.source === '2gis')).toMatchObject({ team: 'almaty', expectedQuietDays: 45 });
    // Every source is in the file, but a first run must not post to anyone nor need a secret.
    expect(config.channels).toEqual([]);
    expect(config.helpdesks).toEqual([]);
    expect(config.credentials).toEqual({});
    expect(config.delivery).toEqual({ maxAttempts: 8, initialDelaySeconds: 5, maxDelaySeconds: 36_000, timeoutSeconds: 15 });
    expect(redactConfig(config, { crawlers })).toEqual(config);
  });

  it('takes an rss feed target and an app-store target', () => {
    const config = parseConfig(
      withTargets(`  - id: news
    source: rss
    brand: Ромашка
    params: {url: "https://example.com/feed.xml"}
  - id: app
    source: app-store
    brand: Ромашка
    params: {appId: "284815942", country: "kz"}
`),
      { crawlers },
    );
    expect(config.targets[0]).toMatchObject({ enabled: true, schedule: '*/30 * * * *', params: { url: 'https://example.com/feed.xml' } });
    expect(config.targets[1]?.params).toMatchObject({ appId: '284815942', country: 'kz' });
  });

  it('reports the crawler param problems at their paths', () => {
    let error: unknown;
    try {
      parseConfig(
        withTargets(`  - id: news
    source: rss
    brand: Ромашка
    params: {url: "not a url"}
  - id: app
    source: app-store
    brand: Ромашка
    params: {appId: "id284815942"}
  - id: bare
    source: rss
    brand: Ромашка
`),
        { crawlers },
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.map(({ path, line }) => ({ path, line }));
    expect(issues).toEqual([
      { path: 'targets[0].params.url', line: 14 },
      { path: 'targets[1].params.appId', line: 18 },
      { path: 'targets[2].params', line: 19 },
    ]);
    expect((error as ConfigError).issues[2]?.message).toBe(
      'matches none of the accepted forms: (url: required) or (googleNews: required)',
    );
  });

  it('takes one brand, several, or every brand for a shared source, and keeps reviews to a named brand', () => {
    const twoBrands = (targets: string) => withTargets(targets).replace(
      'brands:\n  - name: Ромашка\n    keywords: [ромашка, romashka]',
      'brands:\n  - name: Ромашка\n    keywords: [ромашка, romashka]\n  - name: Лютик\n    keywords: [лютик]',
    );
    const config = parseConfig(
      twoBrands(`  - { id: one, source: rss, brand: Ромашка, params: { url: "https://example.com/a.xml" } }
  - { id: both, source: telegram, brands: [Лютик, Ромашка], params: { channel: city_news } }
  - { id: every, source: rss, params: { url: "https://example.com/b.xml" } }
`),
      { crawlers },
    );
    expect(config.targets.map((t) => [t.id, t.brands])).toEqual([
      ['one', ['Ромашка']],
      ['both', ['Лютик', 'Ромашка']],
      ['every', ['Ромашка', 'Лютик']],
    ]);
    let error: unknown;
    try {
      parseConfig(
        twoBrands(`  - { id: twice, source: rss, brand: Ромашка, brands: [Лютик], params: { url: "https://example.com/a.xml" } }
  - { id: stranger, source: telegram, brands: [Лютик, Василёк, Лютик], params: { channel: city_news } }
  - { id: reviews, source: app-store, params: { appId: "284815942" } }
`),
        { crawlers },
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map(({ path, message }) => `${path}: ${message}`)).toEqual([
      'targets[0].brands: give `brand` or `brands`, not both',
      'targets[1].brands[1]: unknown brand "Василёк" (brands: Ромашка, Лютик)',
      'targets[1].brands[2]: brand "Лютик" is listed twice',
      'targets[2]: source app-store keeps every item of the target for one brand: name it with `brand`',
    ]);
  });

  it('gives editors the params of each source, and the credentials of those that take them', () => {
    const schema = configJsonSchema({ crawlers }) as {
      properties: { targets: { items: { allOf: unknown[] } }; credentials: { properties: Record<string, unknown> } };
    };
    expect(schema.properties.targets.items.allOf).toHaveLength(Object.keys(crawlers).length);
    expect(Object.keys(schema.properties.credentials.properties).sort()).toEqual(['reddit', 'vk']);
  });
});
