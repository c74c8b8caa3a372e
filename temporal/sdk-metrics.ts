/**
 * The Temporal SDK's runtime metrics as Prometheus text, read from Core's own exporter (temporal/sdk-runtime.ts) so the
 * process's /metrics can serve them in the same scrape as the service metrics. A scrape must not fail, or wait long,
 * because the SDK's side did not answer: then the service metrics are served alone, with a comment saying why.
 */
export interface SdkMetrics {
  text(): Promise<string>;
}

const FETCH_TIMEOUT_MS = 1_000;

export function createSdkMetrics(bindAddress: string): SdkMetrics {
  // A wildcard bind (0.0.0.0:9464, an operator's TEMPORAL_METRICS_BIND_ADDRESS) is reached on loopback.
  const [host, port] = splitHostPort(bindAddress);
  const local = host === '0.0.0.0' || host === '::' || host === '[::]' || host === '' ? '127.0.0.1' : host;
  const url = `http://${local}:${port}/metrics`;
  return {
    async text() {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
        if (!res.ok) return `# Temporal SDK metrics unavailable: ${url} answered ${res.status}\n`;
        return await res.text();
      } catch (err) {
        return `# Temporal SDK metrics unavailable: ${(err as Error).message}\n`;
      }
    },
  };
}

function splitHostPort(address: string): [string, string] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), address.slice(i + 1)];
}
