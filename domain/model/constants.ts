/**
 * Plain constants with no zod: workflow code imports these. Workflow modules are initialised afresh for every
 * workflow run, so anything they import (a zod schema, say) is rebuilt per decision; keeping zod out of the workflow
 * bundle took a no-op round trip from ~18 ms to ~6 ms on this machine.
 */
export const SURFACE_VALUES = ['ide', 'ci', 'pr', 'alert'] as const;
export const SEVERITY_VALUES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export const SEVERITY_RANK: Record<(typeof SEVERITY_VALUES)[number], number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

/** `kind: "request"` matches a surface request that carries no signal. */
export const REQUEST_TRIGGER_KIND = 'request';
