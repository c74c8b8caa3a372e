/**
 * A real OpenTelemetry Collector (core components, built into the per-user cache by scripts/ensure.mjs) with an
 * OTLP/HTTP receiver on a free port. It exports what it receives over OTLP/HTTP JSON to a small sink server the test
 * reads spans from, so a span in `spans()` went through the collector's OTLP receiver, processor and exporter.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freeLoopbackPort } from '../../lib/free-port';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, unknown>;
  links: Array<{ traceId: string; spanId: string }>;
  service: string;
}

export interface Collector {
  /** The collector's binary. */
  binary: string;
  /** OTEL_EXPORTER_OTLP_ENDPOINT for the app. */
  endpoint: string;
  spans(): ReceivedSpan[];
  /** Waits until `done(spans of the trace)` holds, or fails naming what arrived. */
  waitForTrace(traceId: string, done: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  stop(): Promise<void>;
}

/** The collector built by scripts/ensure.mjs (keep the version in sync with OTELCOL_VERSION there). */
export function otelCollectorPath(): string {
  const fromEnv = process.env.OTELCOL_PATH;
  if (fromEnv && fs.existsSync(fromEnv)) return fromEnv;
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const cached = path.join(cacheHome, 'mmm-engine', 'otelcol-0.165.0', 'otelcorecol');
  if (!fs.existsSync(cached)) throw new Error(`no OpenTelemetry Collector at ${cached}: run the tests through npm test (scripts/ensure.mjs builds it)`);
  return cached;
}


const valueOf = (v: any): unknown => v?.stringValue ?? v?.intValue ?? v?.boolValue ?? v?.doubleValue ?? v?.arrayValue ?? v;
const attributesOf = (list: any[] | undefined) => Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]));

/** `drop`: the collector's `nop` exporter instead of the sink (the bench: only what the engine pays is measured). */
export async function startCollector(opts: { drop?: boolean } = {}): Promise<Collector> {
  const received: ReceivedSpan[] = [];
  const sink = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        for (const rs of body.resourceSpans ?? []) {
          const service = String(attributesOf(rs.resource?.attributes)['service.name'] ?? '');
          for (const ss of rs.scopeSpans ?? [])
            for (const s of ss.spans ?? [])
              received.push({
                traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name, kind: s.kind ?? 0,
                attributes: attributesOf(s.attributes), links: (s.links ?? []).map((l: any) => ({ traceId: l.traceId, spanId: l.spanId })), service,
              });
        }
      } catch {
        /* not a traces export: ignored */
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const sinkPort = (sink.address() as AddressInfo).port;
  const port = await freeLoopbackPort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otelcol-'));
  const configPath = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    configPath,
    `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${port}
processors:
  batch:
    timeout: 100ms
exporters:
  nop:
  otlphttp:
    endpoint: http://127.0.0.1:${sinkPort}
    encoding: json
    compression: none
service:
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [${opts.drop ? 'nop' : 'otlphttp'}]
`,
  );
  const binary = otelCollectorPath();
  const proc: ChildProcess = spawn(binary, ['--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout?.on('data', (b: Buffer) => (log += b.toString()));
  proc.stderr?.on('data', (b: Buffer) => (log += b.toString()));
  // Ready when the receiver accepts connections.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the collector exited (${proc.exitCode}):\n${log}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) throw new Error(`the collector did not listen on ${port} within 30 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    binary,
    endpoint: `http://127.0.0.1:${port}`,
    spans: () => [...received],
    async waitForTrace(traceId, done, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const spans = received.filter((s) => s.traceId === traceId);
        if (done(spans)) return spans;
        if (Date.now() > until)
          throw new Error(`trace ${traceId} incomplete after ${timeoutMs} ms; it has: ${spans.map((s) => `${s.name} (kind ${s.kind})`).join(', ') || 'nothing'}\ncollector log:\n${log}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      await new Promise<void>((resolve) => sink.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
