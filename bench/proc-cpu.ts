/**
 * CPU time of this process and every process it started (the embedded Temporal dev server, PostgreSQL and its
 * backends, redis-server, the load generator), read from /proc, grouped by what each process is. Linux only.
 */
import fs from 'node:fs';
import { execSync } from 'node:child_process';

const TICK_MS = 1000 / (Number(safe(() => execSync('getconf CLK_TCK').toString().trim())) || 100);

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  cpuMs: number;
  rssKb: number;
}

function readProc(pid: number): Proc | undefined {
  const stat = safe(() => fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (!stat) return undefined;
  // comm may hold spaces and parentheses: the fields after it start at the last ')'.
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const f = stat.slice(close + 2).split(' ');
  // Fields from 3 (state): ppid is 4, utime 14, stime 15, rss 24 (pages).
  return { pid, ppid: Number(f[1]), comm, cpuMs: (Number(f[11]) + Number(f[12])) * TICK_MS, rssKb: Number(f[21]) * 4 };
}

export type CpuGroups = Record<string, number>;

/** CPU ms so far of this process tree, by group: node (this process), load generator, temporal, postgres, redis. */
export function cpuSnapshot(loadGeneratorPids: Set<number> = new Set()): CpuGroups {
  const procs = fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((p): p is Proc => p !== undefined);
  const children = new Map<number, Proc[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const groups: CpuGroups = { node_api_and_worker: 0, load_generator: 0, temporal_server: 0, postgres: 0, redis: 0, kafka: 0, other: 0 };
  const visit = (p: Proc, inLoad: boolean) => {
    const load = inLoad || loadGeneratorPids.has(p.pid);
    const group = p.pid === process.pid
      ? 'node_api_and_worker'
      : load
        ? 'load_generator'
        : /temporal/.test(p.comm)
          ? 'temporal_server'
          : /postgres|postmaster/.test(p.comm)
            ? 'postgres'
            : /redis/.test(p.comm)
              ? 'redis'
              : /java/.test(p.comm)
                ? 'kafka'
                : 'other';
    groups[group] += p.cpuMs;
    for (const c of children.get(p.pid) ?? []) visit(c, load);
  };
  const self = procs.find((p) => p.pid === process.pid);
  if (self) visit(self, false);
  return groups;
}

export function cpuDelta(before: CpuGroups, after: CpuGroups): CpuGroups {
  return Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - (before[k] ?? 0)]));
}

export function rssMb(pid = process.pid): number {
  return Math.round(((readProc(pid)?.rssKb ?? 0) / 1024) * 10) / 10;
}
