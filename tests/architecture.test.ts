import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The layer rule of ARCHITECTURE.md: a module imports only from its own folder or from folders in lower
// layers. Same-layer folders never import each other; `import type` counts like any other import.
const LAYERS: Readonly<Record<string, number>> = {
  lib: 0,
  log: 0,
  crawlers: 1,
  sentiment: 1,
  store: 2,
  documents: 3,
  tickets: 4,
  alerts: 4,
  delivery: 4,
  pipeline: 5,
  config: 6,
  scheduler: 7,
  api: 8,
  bin: 9,
};

/**
 * Outside the product: they may import anything, and nothing in the product imports them. `ui/` is the browser
 * app and its build script; the server only serves what the build wrote to ui/dist.
 */
const OUTSIDE = new Set(['bench', 'tests', 'ui']);

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface SourceFile {
  /** Relative to the repository root, with forward slashes: `crawlers/rss/fetch.ts`. */
  path: string;
  source: string;
}

interface Violation {
  file: string;
  imported: string;
  reason: string;
}

/** Test files and the API's test seed are exempt from the rule, but product code must not import them. */
function isTestOnly(path: string): boolean {
  return path.endsWith('.test.ts') || path === 'api/test-seed.ts';
}

function topFolder(path: string): string {
  return path.split('/')[0]!;
}

function describeLayer(folder: string): string {
  return `layer ${LAYERS[folder]} ${folder}/`;
}

/**
 * The checker, a pure function: every import of a product file (not a test file) that breaks the layer rule.
 * Paths of the result are relative to the repository root.
 */
function checkLayers(files: readonly SourceFile[]): Violation[] {
  const violations: Violation[] = [];
  for (const file of files) {
    const from = topFolder(file.path);
    if (!(from in LAYERS) || isTestOnly(file.path)) continue;
    for (const specifier of extractImports(file.source)) {
      if (!specifier.startsWith('./') && !specifier.startsWith('../')) continue; // a package or node: builtin
      const imported = posix.normalize(posix.join(posix.dirname(file.path), specifier));
      const reason = whyNot(from, imported);
      if (reason) violations.push({ file: file.path, imported, reason });
    }
  }
  return violations.sort((a, b) => a.file.localeCompare(b.file) || a.imported.localeCompare(b.imported));
}

/** Null when a file of folder `from` may import `imported`, else why not. */
function whyNot(from: string, imported: string): string | null {
  const to = topFolder(imported);
  if (imported.startsWith('../') || !imported.includes('/')) return `${describeLayer(from)} may not import outside the layered folders`;
  if (OUTSIDE.has(to)) return `${describeLayer(from)} may not import ${to}/, which is outside the product`;
  if (isTestOnly(imported)) return `${describeLayer(from)} may not import test-only code`;
  if (!(to in LAYERS)) return `${describeLayer(from)} may not import ${to}/, which has no layer`;
  if (to === from || LAYERS[to]! < LAYERS[from]!) return null;
  return `${describeLayer(from)} may not import ${describeLayer(to)}`;
}

function formatViolation(v: Violation): string {
  return `${v.file} -> ${v.imported} (${v.reason})`;
}

// `import ... from '...'`, `export ... from '...'` (the clause holds only names, braces, commas and `*`, so it
// cannot run across other code), `import '...'`, and `import('...')` calls and types with a literal.
const STATIC_FROM = /(?<![\w$.])(?:import|export)\s[\w\s{},*$]*?\bfrom\s*(["'])([^"'\n]+)\1/dg;
const SIDE_EFFECT = /(?<![\w$.])import\s*(["'])([^"'\n]+)\1/dg;
const DYNAMIC = /(?<![\w$.])import\s*\(\s*(["'`])([^"'`$\n]+)\1\s*[,)]/dg;

/**
 * The relative and bare specifiers a module imports or re-exports. Comments are blanked and the insides of
 * strings, templates and regular expressions masked first, so that only real code is matched; the specifier
 * is then read from the original text at the same place.
 */
function extractImports(source: string): string[] {
  const masked = maskNonCode(source);
  const found: string[] = [];
  for (const pattern of [STATIC_FROM, SIDE_EFFECT, DYNAMIC]) {
    for (const match of masked.matchAll(pattern)) {
      const [start, end] = match.indices![2]!;
      found.push(source.slice(start, end));
    }
  }
  return found;
}

const REGEX_AFTER_WORDS = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'yield', 'await', 'instanceof']);

/**
 * The source with comments turned into spaces and the characters inside string, template and regex literals
 * turned into `_` (quotes kept, `${…}` code inside templates kept), at the same offsets. Whether `/` starts a
 * regular expression is told from what precedes it, as the usual lexers of tools do.
 */
function maskNonCode(source: string): string {
  const out = source.split('');
  const templateDepths: number[] = []; // brace depth at each open `${`
  let braces = 0;
  let i = 0;
  const blank = (from: number, to: number, ch: string) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ch;
  };
  const regexMayStart = () => {
    let k = i - 1;
    while (k >= 0 && /\s/.test(out[k]!)) k--;
    if (k < 0) return true;
    const prev = out[k]!;
    if (/[\w$]/.test(prev)) {
      let w = k;
      while (w > 0 && /[\w$]/.test(out[w - 1]!)) w--;
      return REGEX_AFTER_WORDS.has(out.slice(w, k + 1).join(''));
    }
    return !/[)\]}]/.test(prev);
  };
  /** Masks a template from after its opening or closing-brace position; returns where code resumes. */
  const scanTemplate = (start: number): number => {
    let k = start;
    while (k < source.length) {
      const c = source[k]!;
      if (c === '\\') k += 2;
      else if (c === '`') {
        blank(start, k, '_');
        return k + 1;
      } else if (c === '$' && source[k + 1] === '{') {
        blank(start, k, '_');
        templateDepths.push(braces);
        braces++;
        return k + 2;
      } else k++;
    }
    blank(start, source.length, '_');
    return source.length;
  };
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? source.length : end;
      blank(i, stop, ' ');
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      blank(i, stop, ' ');
      i = stop;
    } else if (c === '"' || c === "'") {
      let k = i + 1;
      while (k < source.length && source[k] !== c && source[k] !== '\n') k += source[k] === '\\' ? 2 : 1;
      blank(i + 1, Math.min(k, source.length), '_');
      i = k + 1;
    } else if (c === '`') {
      i = scanTemplate(i + 1);
    } else if (c === '{') {
      braces++;
      i++;
    } else if (c === '}') {
      braces--;
      if (templateDepths.length > 0 && templateDepths[templateDepths.length - 1] === braces) {
        templateDepths.pop();
        i = scanTemplate(i + 1);
      } else i++;
    } else if (c === '/' && regexMayStart()) {
      let k = i + 1;
      let inClass = false;
      while (k < source.length && source[k] !== '\n') {
        const r = source[k]!;
        if (r === '\\') k += 2;
        else {
          if (r === '[') inClass = true;
          else if (r === ']') inClass = false;
          else if (r === '/' && !inClass) break;
          k++;
        }
      }
      blank(i + 1, Math.min(k, source.length), '_');
      i = k + 1;
    } else i++;
  }
  return out.join('');
}

/** Every product `.ts` file the rule covers, read from disk. */
function readProductFiles(root: string): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const path = `${rel}/${name}`;
      if (statSync(full).isDirectory()) {
        if (name !== 'node_modules' && name !== 'fixtures') walk(full, path);
      } else if (name.endsWith('.ts') && !isTestOnly(path)) {
        files.push({ path, source: readFileSync(full, 'utf8') });
      }
    }
  };
  // lib/ and delivery/ may not exist yet in every checkout.
  for (const folder of Object.keys(LAYERS)) if (existsSync(join(root, folder))) walk(join(root, folder), folder);
  return files;
}

describe('architecture: the browser app', () => {
  it('imports only its own files, its generated API types and packages: never server code', () => {
    const breaches: string[] = [];
    const walk = (dir: string, rel: string) => {
      for (const name of readdirSync(dir).sort()) {
        const full = join(dir, name);
        if (statSync(full).isDirectory()) {
          if (name !== 'generated') walk(full, `${rel}/${name}`);
          continue;
        }
        if (!/\.tsx?$/.test(name)) continue;
        for (const m of readFileSync(full, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
          const spec = m[1]!;
          if (!spec.startsWith('.')) continue;
          const target = posix.normalize(posix.join(rel, spec));
          if (!target.startsWith('ui/src/')) breaches.push(`${rel}/${name} -> ${spec}`);
        }
      }
    };
    walk(join(ROOT, 'ui', 'src'), 'ui/src');
    expect(breaches).toEqual([]);
  });
});

describe('architecture: the layer rule', () => {
  it('product code imports only its own folder and lower layers', () => {
    const files = readProductFiles(ROOT);
    expect(files.length).toBeGreaterThan(50);
    const lines = checkLayers(files).map(formatViolation);
    expect(lines, `${lines.length} import(s) break the layer rule of ARCHITECTURE.md:\n${lines.join('\n')}\n`).toEqual([]);
  });

  it('the checker reports each kind of breach and passes legal imports', () => {
    const files: SourceFile[] = [
      { path: 'crawlers/x/fetch.ts', source: "import { openStore } from '../../store/connect.ts';\n" },
      { path: 'store/a.ts', source: "import type { PageCounts } from '../pipeline/ingest.ts';\n" },
      { path: 'tickets/a.ts', source: "export { planAlerts } from '../alerts/b.ts';\n" },
      { path: 'sentiment/a.ts', source: "const m = await import('../crawlers/types.ts');\n" },
      { path: 'scheduler/a.ts', source: "import '../tests/helpers/fake-clock.ts';\nimport { seed } from '../api/test-seed.ts';\n" },
      {
        path: 'pipeline/a.ts',
        source: [
          "import {",
          "  upsertMentions,",
          "  type StoredMentionRow,",
          "} from '../store/b.ts';",
          "import type { Db } from '../store/connect.ts';",
          "import { normalizeText } from './normalize.ts';",
          "import { z } from 'zod';",
          "// import { runCrawl } from '../scheduler/run-crawl.ts';",
          "/* import('../api/app.ts') */",
          "const help = \"import x from '../bin/cli.ts'\";",
          "const re = /import '..\\/bin\\/cli.ts'/;",
          "const t = `${help} import('../bin/cli.ts') ${re.source}`;",
        ].join('\n'),
      },
      // Exempt: test files anywhere, the API's test seed, and bench/ and tests/ themselves.
      { path: 'crawlers/x/x.test.ts', source: "import { openStore } from '../../store/connect.ts';\n" },
      { path: 'api/test-seed.ts', source: "import { main } from '../bin/cli.ts';\n" },
      { path: 'tests/e2e.test.ts', source: "import { main } from '../bin/cli.ts';\n" },
      { path: 'bench/ingest.ts', source: "import { ingestPage } from '../pipeline/ingest.ts';\n" },
    ];
    expect(checkLayers(files).map(formatViolation)).toEqual([
      'crawlers/x/fetch.ts -> store/connect.ts (layer 1 crawlers/ may not import layer 2 store/)',
      'scheduler/a.ts -> api/test-seed.ts (layer 7 scheduler/ may not import test-only code)',
      'scheduler/a.ts -> tests/helpers/fake-clock.ts (layer 7 scheduler/ may not import tests/, which is outside the product)',
      'sentiment/a.ts -> crawlers/types.ts (layer 1 sentiment/ may not import layer 1 crawlers/)',
      'store/a.ts -> pipeline/ingest.ts (layer 2 store/ may not import layer 5 pipeline/)',
      'tickets/a.ts -> alerts/b.ts (layer 4 tickets/ may not import layer 4 alerts/)',
    ]);
  });

  it('reads every kind of import from a module, and nothing from comments or strings', () => {
    const source = [
      "import a from './a.ts';",
      "import type { B } from '../b.ts';",
      "import * as c from \"./c.ts\";",
      "import './d.ts';",
      "export { e } from './e.ts';",
      "export * from './f.ts';",
      "type G = import('./g.ts').G;",
      "const h = () => import(`./h.ts`);",
      "// import i from './i.ts';",
      "/** see import('./j.ts') */",
      "const k = 'import l from \"./l.ts\"', m = x / 2, n = /from '.\\/n.ts'/g;",
    ].join('\n');
    expect(extractImports(source).sort()).toEqual(['../b.ts', './a.ts', './c.ts', './d.ts', './e.ts', './f.ts', './g.ts', './h.ts']);
  });
});
