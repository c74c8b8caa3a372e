import { z } from 'zod';
import { idSchema, text, timestampSchema } from './common';

/** The kinds of resource an admin mutation changes (CONTRACT.md "Audit entry"); the experiments branch adds its own. */
export const AUDIT_RESOURCE_TYPES = ['playbook', 'tenant_policy', 'experiment', 'preferences', 'ubi_config', 'ubi_erasure', 'ubi_recompute'] as const;
export const auditResourceTypeSchema = z.enum(AUDIT_RESOURCE_TYPES);

/** One entry of the admin audit log as the read route answers it (NFR-7). */
export const auditEntrySchema = z.object({
  audit_id: text(),
  tenant_id: text(),
  seq: z.number().int().nullable().describe('place in the tenant\'s chain; null for entries written before the chain started'),
  at: timestampSchema,
  actor_id: text().describe('who made the change'),
  action: text(),
  resource_type: text(),
  resource_id: text(),
  before: z.unknown().describe('redacted state before the change (null: none, or cleared past retention)'),
  after: z.unknown().describe('redacted state after the change (null: none, or cleared past retention)'),
  before_sha256: text().nullable().describe('SHA-256 of the canonical JSON (RFC 8785) of `before`; kept when retention clears the value'),
  after_sha256: text().nullable().describe('SHA-256 of the canonical JSON (RFC 8785) of `after`; kept when retention clears the value'),
  values_purged: z.boolean().describe('true when retention cleared before/after (their digests still verify the chain)'),
  prev_hash: text().nullable(),
  hash: text().nullable().describe('SHA-256 over the canonical JSON of the entry without hash, before, after and values_purged'),
});
export type AuditEntryView = z.infer<typeof auditEntrySchema>;

export const auditChainBreakSchema = z.object({
  audit_id: text().nullable().describe('the first entry that does not verify (null when entries are missing after the last one)'),
  seq: z.number().int().nullable(),
  reason: z.enum(['hash_mismatch', 'prev_hash_mismatch', 'value_digest_mismatch', 'seq_gap', 'unchained_entry', 'head_mismatch']),
});

export const auditQuerySchema = z.strictObject({
  since: timestampSchema.optional(),
  resource_type: auditResourceTypeSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const auditResponseSchema = z.object({
  tenant_id: idSchema,
  entries: z.array(auditEntrySchema).describe('newest first'),
  chain_ok: z.boolean().describe("whether the tenant's whole chain verifies, not only the entries returned"),
  first_broken: auditChainBreakSchema.nullable(),
  verified_entries: z.number().int(),
  unchained_entries: z.number().int().describe('entries written before the chain started (migration 010), not covered by it'),
});
