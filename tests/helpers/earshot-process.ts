import { spawn, type ChildProcess } from 'node:child_process';

const BIN = new URL('../../bin/earshot.js', import.meta.url).pathname;

export interface EarshotRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The caller's environment without a database of its own: each test names its database. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const { DATABASE_URL: _url, EARSHOT_DATA_DIR: _dir, ...base } = process.env;
  return { ...base, LOG_LEVEL: 'silent', ...env };
}

/** Runs one `earshot` command to its end. */
export function runEarshot(args: string[], env: Record<string, string> = {}, onSpawn?: (child: ChildProcess) => void): Promise<EarshotRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: childEnv(env) });
    onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export interface EarshotProcess {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Resolves with the first stdout line matching, as soon as the process prints it. */
  waitForLine(pattern: RegExp): Promise<string>;
  /** Resolves when the process has exited. */
  exited: Promise<EarshotRun>;
}

/** Starts a long-running `earshot` (run, worker, scheduler): the caller stops it. */
export function startEarshot(args: string[], env: Record<string, string>): EarshotProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env: childEnv(env) });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const check = () => {
    for (const line of stdout.split('\n')) {
      for (const w of waiters.filter((x) => x.pattern.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
    check();
  });
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<EarshotRun>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    child,
    output: () => ({ stdout, stderr }),
    waitForLine(pattern) {
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        check();
        void exited.then((run) => reject(new Error(`earshot ${args[0]} exited (${run.code ?? run.signal}) before printing ${pattern}:\n${run.stdout}\n${run.stderr}`)));
      });
    },
    exited,
  };
}
