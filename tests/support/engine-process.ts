/**
 * The engine as its own process (`workers/main.ts`, as deployed: tracing starts before the modules it instruments
 * load), for the tracing tests; and enough of a TestApp to drive it over HTTP with tokens of the suite's secret.
 */
import { spawn } from 'node:child_process';
import { signDevToken } from '../../api/auth';
import { TEST_JWT_SECRET, type TestApp } from './harness';

export interface EngineProcess {
  url: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** JSON log lines written so far. */
  logLines(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

export function startEngineProcess(env: Record<string, string>): Promise<EngineProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], { cwd: process.cwd(), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const engine = (url: string): EngineProcess => ({
    url,
    output: () => output,
    logLines: () =>
      output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  });
  return new Promise((resolve, reject) => {
    const onData = (b: Buffer) => {
      output += b.toString();
      const api = output.match(/API:\s+(http:\/\/\S+)/);
      if (api && output.includes('is running')) resolve(engine(api[1]));
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`the engine exited (${code}) before it was running:\n${output}`)));
  });
}

/** Enough of a TestApp for the fixtures: HTTP to the engine process with tokens of the suite's secret. */
export function engineClient(url: string): TestApp {
  return {
    url,
    token: (claims: { tenant_id: string; sub: string; roles?: string[] }) => signDevToken(TEST_JWT_SECRET, { roles: [], ...claims }),
    async request(method: string, p: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(url + p, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
    },
  } as unknown as TestApp;
}
