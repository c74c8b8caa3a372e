import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as { __MMM_STOPS__?: Array<() => Promise<void>>; __MMM_WORKDIR__?: string };
  for (const stop of (g.__MMM_STOPS__ ?? []).reverse()) await stop().catch((err) => console.error('[tests] stop failed', err));
  if (g.__MMM_WORKDIR__) fs.rmSync(g.__MMM_WORKDIR__, { recursive: true, force: true });
}
