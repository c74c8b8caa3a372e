/**
 * At most `limit` calls run at once per key; the others wait in arrival order. The decision client keeps its Updates
 * per shard workflow under the server's in-flight limit with it (workflows/decision/client.ts), and the bench's floor
 * does the same, so both send the same shape of load.
 */
export function createKeyedGate(limit: number) {
  const gates = new Map<string, { active: number; waiting: Array<() => void> }>();
  return async function gated<T>(key: string, run: () => Promise<T>): Promise<T> {
    let gate = gates.get(key);
    if (!gate) gates.set(key, (gate = { active: 0, waiting: [] }));
    if (gate.active >= limit) await new Promise<void>((resolve) => gate.waiting.push(resolve));
    gate.active++;
    try {
      return await run();
    } finally {
      gate.active--;
      const next = gate.waiting.shift();
      if (next) next();
      else if (gate.active === 0) gates.delete(key);
    }
  };
}
