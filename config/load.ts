import { readFileSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parse, parseDocument, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { findUnstorableText } from '../lib/storable-text.ts';
import { createConfigSchema, describeConfigIssue, type ConfigCrawlers, type EarshotConfig } from './schema.ts';

export type ConfigEnv = Readonly<Record<string, string | undefined>>;

export interface ConfigIssue {
  /** YAML path such as `targets[2].schedule`; empty for the whole file. */
  path: string;
  /** 1-based; null when the file has no node for the path. */
  line: number | null;
  column: number | null;
  message: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly issues: ConfigIssue[];
  readonly file: string | undefined;

  constructor(issues: ConfigIssue[], file?: string) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    const header = file === undefined ? `invalid config, ${count}:` : `invalid config ${file}, ${count}:`;
    super([header, ...issues.map((issue) => formatIssue(issue, file))].join('\n'));
    this.issues = issues;
    this.file = file;
  }
}

export function formatIssue(issue: ConfigIssue, file?: string): string {
  const where = [file ?? 'config', issue.line, issue.column].filter((part) => part !== null).join(':');
  return issue.path === '' ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
}

export interface ParseConfigOptions {
  env?: ConfigEnv;
  /** Only used to name the file in messages. */
  file?: string;
  /** The crawlers whose sources and target params the config may use (the registry; tests pass their own). */
  crawlers: ConfigCrawlers;
}

/** Reads and validates the config file. The CLI edge calls this; everything else receives the result. */
export function loadConfig(file: string, opts: Omit<ParseConfigOptions, 'file'>): EarshotConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([{ path: '', line: null, column: null, message: `cannot read the config file: ${reason}` }], file);
  }
  return parseConfig(text, { env: process.env, ...opts, file });
}

/** Parses YAML text into a validated config, or throws a `ConfigError` listing every problem with its line. */
export function parseConfig(text: string, opts: ParseConfigOptions): EarshotConfig {
  const env = opts.env ?? {};
  const crawlers = opts.crawlers;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  const locate = (offset: number | undefined) => {
    if (offset === undefined) return { line: null, column: null };
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  if (doc.errors.length > 0) {
    const issues = doc.errors.map((error) => ({ path: '', ...locate(error.pos[0]), message: `YAML: ${error.message}` }));
    throw new ConfigError(issues, opts.file);
  }

  const envIssues: { path: Path; message: string }[] = [];
  interpolateNode(doc.contents, [], env, envIssues);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError([{ path: '', line: null, column: null, message: `YAML: ${message}` }], opts.file);
  }
  if (data === null || data === undefined) {
    const message = 'the file is empty: expected a mapping with brands, teams, routing and targets (see config/earshot.example.yaml)';
    throw new ConfigError([{ path: '', line: null, column: null, message }], opts.file);
  }
  const result = createConfigSchema(crawlers).safeParse(data, { error: describeConfigIssue });
  const schemaIssues = result.success ? [] : expandIssues(result.error.issues);
  const envPaths = envIssues.map((issue) => formatPath(issue.path));
  // A missing variable leaves `${VAR}` in place; what the schema then says about that value is noise.
  const relevant = schemaIssues.filter((issue) => !envPaths.some((envPath) => isWithin(formatPath(issue.path), envPath)));

  // Config strings reach the store (brand names, keywords, target params): a NUL or a lone surrogate, which
  // a double-quoted YAML escape ("\0", "\ud800") can write, could not be stored there.
  const textIssues = findUnstorableText(data);

  const issues = [...envIssues, ...textIssues, ...relevant].map((issue) => ({
    path: formatPath(issue.path),
    ...locate(findOffset(doc, issue.path)),
    message: issue.message,
  }));
  if (issues.length > 0 || !result.success) {
    throw new ConfigError(sortIssues(issues), opts.file);
  }
  return result.data;
}

/** JSON Schema of the config file for editor completion, with per-source `params` from the crawlers. */
export function configJsonSchema(opts: { crawlers: ConfigCrawlers }): Record<string, unknown> {
  const crawlers = opts.crawlers;
  const schema = z.toJSONSchema(createConfigSchema(crawlers), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const target = readJsonObject(readJsonObject(readJsonObject(schema.properties).targets).items);
  const properties = readJsonObject(target.properties);
  const sources = Object.keys(crawlers);
  if (sources.length > 0) {
    properties.source = { type: 'string', enum: sources };
    target.allOf = sources.map((source) => {
      const { $schema: _ignored, ...params } = z.toJSONSchema(crawlers[source]!.target, { io: 'input', unrepresentable: 'any' });
      return {
        if: { properties: { source: { const: source } }, required: ['source'] },
        then: { properties: { params } },
      };
    });
  }
  // `credentials.<source>` for every source that takes credentials, so editors complete them too.
  const credentialSources = sources.filter((source) => crawlers[source]?.credentials);
  if (credentialSources.length > 0) {
    const credentials = readJsonObject(readJsonObject(schema.properties).credentials);
    credentials.properties = Object.fromEntries(
      credentialSources.map((source) => {
        const { $schema: _ignored, ...shape } = z.toJSONSchema(crawlers[source]!.credentials!.schema, { io: 'input', unrepresentable: 'any' });
        return [source, shape];
      }),
    );
    credentials.additionalProperties = false;
  }
  return schema;
}

type Path = PropertyKey[];

function readJsonObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function expandIssues(issues: z.core.$ZodIssue[]): { path: Path; message: string }[] {
  return issues.flatMap((issue) => {
    // One issue per unknown key, so each points at its own line.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...issue.path, key], message: 'unknown key' }));
    }
    // zod says only "Invalid input" when no branch of a union comes close; list what each branch wanted.
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const forms = issue.errors.map((branch) =>
        branch.map((inner) => [formatPath(inner.path), inner.message].filter((part) => part !== '').join(': ')).join(', '),
      );
      return [{ path: issue.path, message: `matches none of the accepted forms: ${forms.map((form) => `(${form})`).join(' or ')}` }];
    }
    return [{ path: issue.path, message: issue.message }];
  });
}

function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  const order = (issue: ConfigIssue) => [issue.line ?? Number.MAX_SAFE_INTEGER, issue.column ?? 0] as const;
  return issues
    .map((issue, index) => ({ issue, index }))
    .sort((a, b) => {
      const [lineA, columnA] = order(a.issue);
      const [lineB, columnB] = order(b.issue);
      return lineA - lineB || columnA - columnB || a.index - b.index;
    })
    .map(({ issue }) => issue);
}

export function formatPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

function isWithin(path: string, parent: string): boolean {
  return path === parent || path.startsWith(`${parent}.`) || path.startsWith(`${parent}[`);
}

/** Offset of the node a path names, or of its nearest existing ancestor; map entries point at their key. */
function findOffset(doc: Document, path: Path): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) break;
      offset = rangeStart(pair.key) ?? rangeStart(pair.value) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}

function interpolateNode(node: unknown, path: Path, env: ConfigEnv, issues: { path: Path; message: string }[]): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      interpolateNode(pair.value, [...path, String(key)], env, issues);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => interpolateNode(item, [...path, index], env, issues));
  } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
    const result = interpolateString(node.value, env);
    for (const message of result.errors) issues.push({ path, message });
    if (result.errors.length === 0 && result.value !== node.value) {
      node.value = node.type === 'PLAIN' ? resolvePlainScalar(result.value) : result.value;
    }
  }
}

// `retries: ${RETRIES:-3}` should be the number 3, as if the value had been written there.
function resolvePlainScalar(text: string): unknown {
  try {
    const value: unknown = parse(text);
    return typeof value === 'number' || typeof value === 'boolean' ? value : text;
  } catch {
    return text;
  }
}

/** Replaces `${VAR}` and `${VAR:-default}` from env; `$${` stands for a literal `${`. */
export function interpolateString(text: string, env: ConfigEnv): { value: string; errors: string[] } {
  let value = '';
  const errors: string[] = [];
  let index = 0;
  while (index < text.length) {
    const dollar = text.indexOf('$', index);
    if (dollar === -1) {
      value += text.slice(index);
      break;
    }
    value += text.slice(index, dollar);
    if (text.startsWith('$${', dollar)) {
      value += '${';
      index = dollar + 3;
      continue;
    }
    if (!text.startsWith('${', dollar)) {
      value += '$';
      index = dollar + 1;
      continue;
    }
    const close = text.indexOf('}', dollar + 2);
    if (close === -1) {
      errors.push('unclosed "${" (write "$${" for a literal "${")');
      break;
    }
    const reference = text.slice(dollar + 2, close);
    const match = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s.exec(reference);
    if (!match) {
      errors.push(`invalid variable reference "\${${reference}}" (expected \${NAME} or \${NAME:-default})`);
    } else {
      const [, name = '', fallback] = match;
      const found = env[name];
      // Like the shell's `:-`, an empty variable also takes the default.
      if (fallback !== undefined && (found === undefined || found === '')) value += fallback;
      else if (found === undefined) errors.push(`environment variable ${name} is not set`);
      else value += found;
    }
    index = close + 1;
  }
  return { value, errors };
}
