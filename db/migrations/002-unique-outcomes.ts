/** One outcome per action: the database enforces it, so concurrent reports cannot both be stored. */
export const name = '002-unique-outcomes';
export const up = `
CREATE UNIQUE INDEX IF NOT EXISTS decision_outcomes_action_idx ON decision_outcomes (decision_id, action_id);
`;
