import { Client } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { NativeConnection } from '@temporalio/worker';
import { activeSpanUnsampled, whenSampled } from '../workflows/tracing/sampling';
import { SEARCH_ATTRIBUTES } from './search-attributes';

export interface TemporalHandles {
  connection: NativeConnection;
  client: Client;
  close(): Promise<void>;
}

/**
 * One NativeConnection shared by the client and the worker: eager workflow start needs exactly that, and it saves a
 * second gRPC channel.
 */
export async function connectTemporal(address: string, namespace: string, opts: { tracing?: boolean } = {}): Promise<TemporalHandles> {
  const connection = await NativeConnection.connect({ address });
  // Tracing: starts, signals and Updates carry the caller's trace context in their headers (ADR 0015); a call made in a
  // trace that is not sampled carries none and makes no span (outside any trace the sampler decides, as for any root).
  const interceptors = opts.tracing ? { workflow: [whenSampled(new OpenTelemetryWorkflowClientInterceptor(), () => !activeSpanUnsampled())] } : undefined;
  const client = new Client({ connection, namespace, interceptors });
  return {
    connection,
    client,
    async close() {
      await connection.close();
    },
  };
}

/** A real cluster may not know our search attributes yet; registering them is idempotent. */
export async function ensureSearchAttributes(client: Client, namespace: string): Promise<void> {
  const existing = await client.connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((k) => !(k.name in (existing.customAttributes ?? {})));
  if (missing.length === 0) return;
  await client.connection.operatorService.addSearchAttributes({
    namespace,
    // 2 = INDEXED_VALUE_TYPE_KEYWORD
    searchAttributes: Object.fromEntries(missing.map((k) => [k.name, 2])),
  });
}
