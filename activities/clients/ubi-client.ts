import { z } from 'zod';
import { recentSignalSchema, type RecentSignal } from '../../domain/model/signal';
import { parseAnswer, type ServiceClient } from '../../lib/clients/service-client';

/** Only what context assembly keeps of a signal (recentSignalSchema strips the rest: data minimisation, NFR-3). */
const recentAnswer = z.object({ signals: z.array(recentSignalSchema) });

export interface UbiClient {
  /** `GET /v1/ubi/signals/recent?tenant_id&actor_id&limit` when UBI runs in another process (CONTRACT.md). */
  recentSignals(tenantId: string, actorId: string, limit?: number): Promise<RecentSignal[]>;
}

export function createUbiClient(client: ServiceClient): UbiClient {
  return {
    async recentSignals(tenantId, actorId, limit = 10) {
      const query = new URLSearchParams({ tenant_id: tenantId, actor_id: actorId, limit: String(limit) });
      const answer = await client.request('GET', `/v1/ubi/signals/recent?${query.toString()}`);
      return parseAnswer('ubi', recentAnswer, answer, 'the recent signals').signals.slice(0, limit);
    },
  };
}
