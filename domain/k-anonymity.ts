/**
 * The minimum group size for aggregate answers (FR-13): a count that covers fewer distinct actors than the tenant's
 * minimum group size (UBI config `min_group_size`, default 5) is about too few people to show. Pure, so the rule is
 * tested on its own (tests/unit/k-anonymity.test.ts) and the metrics use case only applies it.
 */

/** One count and how many distinct actors it covers. */
export interface Cell {
  count: number;
  actors: number;
}

export interface Published {
  /** The cells shown, by key; a key that is absent was suppressed (or had nothing to count). */
  counts: Record<string, number>;
  /** How many cells were left out. */
  suppressed: number;
}

/** Whether a cell may be shown. */
export function coversEnough(cell: Cell, minGroupSize: number): boolean {
  return cell.actors >= minGroupSize;
}

/**
 * The cells of one breakdown that may be shown. When `partitionOf` is given, the cells add up to that published
 * total, and a single suppressed cell could be recovered by subtraction: the smallest other cell is then left out as
 * well (complementary suppression), so what is left out can only be read as a sum of two.
 */
export function publishBreakdown(cells: Record<string, Cell>, minGroupSize: number, partitionOf?: { published: boolean }): Published {
  const keys = Object.keys(cells).filter((k) => cells[k].count > 0);
  const hidden = new Set(keys.filter((k) => !coversEnough(cells[k], minGroupSize)));
  if (partitionOf?.published && hidden.size === 1) {
    const smallest = keys.filter((k) => !hidden.has(k)).sort((a, b) => cells[a].count - cells[b].count || a.localeCompare(b))[0];
    if (smallest !== undefined) hidden.add(smallest);
  }
  const counts: Record<string, number> = {};
  for (const k of keys.sort()) if (!hidden.has(k)) counts[k] = cells[k].count;
  return { counts, suppressed: hidden.size };
}

/** A single named count: its value, or null when it covers too few actors (counted as one suppressed cell). */
export function publishCount(cell: Cell | undefined, minGroupSize: number): { value: number | null; suppressed: number } {
  if (!cell || cell.count === 0) return { value: 0, suppressed: 0 };
  return coversEnough(cell, minGroupSize) ? { value: cell.count, suppressed: 0 } : { value: null, suppressed: 1 };
}

/** A rate from two published counts: null when either was suppressed or there is nothing to divide by. */
export function rate(numerator: number | null, denominator: number | null): number | null {
  if (numerator === null || denominator === null || denominator === 0) return null;
  return Math.round((numerator / denominator) * 10_000) / 10_000;
}
