import { redact } from '../../domain/redaction';
import { createTtlCache } from '../../lib/ttl-cache';
import type { DataGovernanceClient, PrivacyConfig } from '../clients/data-governance-client';

/**
 * Data governance for what leaves the engine (receipts, alerts) or is logged. Always: the local redaction
 * (domain/redaction.ts). When DATA_GOVERNANCE_BASE_URL is set, also: the tenant's `pii_fields` are masked wherever they
 * appear, and outgoing payloads go through the service's own redaction. The tenant config is fetched by context
 * assembly (within its 0.5 s budget) and cached, so the commit path reads it without a call.
 */
export interface PrivacyGuard {
  readonly configured: boolean;
  /** The tenant's privacy config, cached for `ttlMs`; null when no data governance service is configured. */
  tenantConfig(tenantId: string): Promise<PrivacyConfig | null>;
  /** Synchronous: local redaction plus the cached tenant config's pii_fields (none known: local redaction only). */
  applyCached<T>(tenantId: string, payload: T): T;
  /** For payloads that leave the engine: `applyCached`, then the service's redaction when it answers. */
  redactOutgoing<T>(tenantId: string, payload: T): Promise<{ payload: T; degraded: boolean }>;
}

export { PII_MASK } from '../../domain/privacy/privacy-filter';
import { PII_MASK } from '../../domain/privacy/privacy-filter';

/** Masks every value whose key is one of `fields`, at any depth. */
export function maskFields(value: unknown, fields: ReadonlySet<string>, depth = 0): unknown {
  if (fields.size === 0 || depth > 8) return value;
  if (Array.isArray(value)) return value.map((v) => maskFields(v, fields, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fields.has(k) ? PII_MASK : maskFields(v, fields, depth + 1);
    return out;
  }
  return value;
}

export function createPrivacyGuard(deps: { client?: Pick<DataGovernanceClient, 'tenantConfig' | 'redact'>; ttlMs: number; now?: () => number }): PrivacyGuard {
  const cache = createTtlCache<PrivacyConfig>({ ttlMs: deps.ttlMs, maxEntries: 10_000, now: deps.now });
  const applyCached = <T>(tenantId: string, payload: T): T => {
    const known = cache.peek(tenantId)?.value;
    const local = redact(payload) as T;
    return known ? (maskFields(local, new Set(known.pii_fields)) as T) : local;
  };
  return {
    configured: Boolean(deps.client),
    async tenantConfig(tenantId) {
      const client = deps.client;
      if (!client) return null;
      return cache.get(tenantId, () => client.tenantConfig(tenantId));
    },
    applyCached,
    async redactOutgoing<T>(tenantId: string, payload: T) {
      const local = applyCached(tenantId, payload);
      if (!deps.client) return { payload: local, degraded: false };
      try {
        return { payload: await deps.client.redact(local), degraded: false };
      } catch {
        // The service is down: what leaves is still redacted locally (and by the last known tenant config).
        return { payload: local, degraded: true };
      }
    },
  };
}
