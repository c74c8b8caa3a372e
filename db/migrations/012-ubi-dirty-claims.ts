/**
 * The feature micro-batcher claims dirty (actor, day) pairs with a claim id instead of deleting them inside its
 * transaction (ADR 0006, "Claims"). A deleted-but-uncommitted row made every ingestion of the same pair wait on the
 * primary key until the batch committed, so ingestion ran at the pace of feature batches. A claim is a short committed
 * UPDATE. Ingestion that touches a claimed pair only stamps `remarked_at`: the batch that holds it finishes with what it
 * read, then, as the last statement of its write transaction, deletes its pairs that were not marked again and makes
 * the others pending (one batch per pair at a time, as before). A claim older than the claim timeout is taken again
 * (its batch's process died). The feature tables leave room on their pages, since batches now update their rows in
 * place instead of deleting and inserting them.
 */
export const name = '012-ubi-dirty-claims';
export const up = `
ALTER TABLE ubi_dirty ADD COLUMN IF NOT EXISTS claim_id text;
ALTER TABLE ubi_dirty ADD COLUMN IF NOT EXISTS claimed_at timestamptz;
ALTER TABLE ubi_dirty ADD COLUMN IF NOT EXISTS remarked_at timestamptz;
CREATE INDEX IF NOT EXISTS ubi_dirty_claim_idx ON ubi_dirty (claim_id) WHERE claim_id IS NOT NULL;
-- Feature rows are rewritten in place by every batch that touches their actor: room on each page keeps the updates HOT.
ALTER TABLE ubi_features SET (fillfactor = 70);
ALTER TABLE ubi_feature_daily SET (fillfactor = 70);
`;
