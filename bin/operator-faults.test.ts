import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { runEarshot } from '../tests/helpers/earshot-process.ts';
import { describeOperatorFault } from './operator-faults.ts';

const dataDir = '/srv/earshot/data';
const where = { databaseUrl: undefined, dataDir };

/** The error a real call fails with. */
async function failure(run: () => Promise<unknown>): Promise<unknown> {
  return run().then(() => {
    throw new Error('expected a failure');
  }, (err: unknown) => err);
}

describe('operator faults in one line', () => {
  it('names a port in use, from the error a second listen really gets', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as AddressInfo;
    const second = createServer();
    const err = await failure(() => new Promise((resolve, reject) => second.once('error', reject).listen(port, '127.0.0.1', () => resolve(null))));
    taken.close();
    expect(describeOperatorFault(err, where)).toBe(`port ${port} on 127.0.0.1 is in use by another program: stop it, or set PORT (and HOST) to another`);
  });

  it('names a database that does not answer, without its password, and only when DATABASE_URL is in use', async () => {
    const url = 'postgres://earshot:hunter2@127.0.0.1:1/earshot';
    const err = await failure(() => new pg.Client({ connectionString: url }).connect());
    const line = describeOperatorFault(err, { databaseUrl: url, dataDir });
    expect(line).toBe('PostgreSQL at earshot@127.0.0.1:1/earshot does not answer (ECONNREFUSED): is it running, and is DATABASE_URL right?');
    expect(line).not.toContain('hunter2');
    expect(describeOperatorFault(err, where)).toBeNull();
  });

  it.runIf(process.env.DATABASE_URL)('names a database that is not there', async () => {
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = '/earshot_no_such_database';
    const err = await failure(() => new pg.Client({ connectionString: url.href }).connect());
    expect(describeOperatorFault(err, { databaseUrl: url.href, dataDir })).toMatch(
      /^PostgreSQL at .*\/earshot_no_such_database has no such database: database "earshot_no_such_database" does not exist \(check DATABASE_URL\)$/,
    );
  });

  it('names a full or read-only data directory, PGlite\'s own errno included, and leaves other errors alone', () => {
    const system = (code: string, path?: string) => Object.assign(new Error(`${code}: …`), { code, ...(path ? { path } : {}) });
    expect(describeOperatorFault(system('EROFS', `${dataDir}/earshot.token`), where)).toBe(
      `the data directory ${dataDir} is on a read-only file system: point EARSHOT_DATA_DIR at a writable directory (EROFS on ${dataDir}/earshot.token)`,
    );
    const initdb = new Error('could not create the database', { cause: Object.assign(new Error('errno 51'), { name: 'ErrnoError', errno: 51 }) });
    expect(describeOperatorFault(initdb, where)).toMatch(/^the data directory \/srv\/earshot\/data has no space left on its device: free some, then start again/);
    expect(describeOperatorFault(Object.assign(new Error('mkdir'), { code: 'ENOENT', syscall: 'mkdir', path: dataDir }), where)).toMatch(/cannot be created \(ENOENT on/);
    expect(describeOperatorFault(system('EACCES', '/etc/earshot.yaml'), where)).toBeNull(); // not the data directory
    const full = Object.assign(new Error('could not extend file "base/5/16420": No space left on device'), { code: '53100' });
    expect(describeOperatorFault(full, where)).toBe(
      `the data directory ${dataDir} has no disk space left (could not extend file "base/5/16420": No space left on device): free some; nothing half-written was kept`,
    );
    expect(describeOperatorFault(new TypeError('x is undefined'), where)).toBeNull(); // a bug keeps its stack
  });

  it('ends earshot run on a port in use, and earshot migrate on an unreachable database, with one line and exit 1', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as AddressInfo;
    const env = { EARSHOT_DATA_DIR: join(mkdtempSync(join(tmpdir(), 'earshot-faults-')), 'data'), PORT: String(port) };
    const run = await runEarshot(['run'], env);
    taken.close();
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 1, stderr: `earshot: port ${port} on 127.0.0.1 is in use by another program: stop it, or set PORT (and HOST) to another\n` });
    const migrate = await runEarshot(['migrate'], { DATABASE_URL: 'postgres://earshot:hunter2@127.0.0.1:1/earshot' });
    expect({ code: migrate.code, stderr: migrate.stderr }).toEqual({
      code: 1, stderr: 'earshot: PostgreSQL at earshot@127.0.0.1:1/earshot does not answer (ECONNREFUSED): is it running, and is DATABASE_URL right?\n',
    });
  });
});
