/**
 * The OpenTelemetry trace a decision was made in (ADR 0015), beside the run and Update that recorded it, so ops go
 * from a decision to its trace (and find a trace's decision). Null for decisions made with tracing off, and before.
 */
export const name = '009-decision-trace-id';
export const up = `
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS trace_id text;
CREATE INDEX IF NOT EXISTS decisions_trace_id_idx ON decisions (trace_id) WHERE trace_id IS NOT NULL;
`;
