/**
 * Decisions are Updates into long-lived shard workflows (ADR 0012): the workflow id no longer names one decision, so
 * each decision also stores the run and the Update that recorded it. Ops go from a decision id to
 * `temporal workflow update describe -w <workflow_id> -r <workflow_run_id> --update-id <update_id>`. Both are null
 * for decisions made by the one-workflow-per-decision design before it.
 */
export const name = '008-decision-updates';
export const up = `
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS workflow_run_id text;
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS update_id text;
`;
