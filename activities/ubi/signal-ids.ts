import { sha256Hex } from '../../lib/receipt-crypto';

/** One signal per (actor, feature, direction, day): recomputing a window never signals twice. */
export function ubiSignalId(tenantId: string, actorId: string, parts: { feature: string; signal_type: string; day: string }): string {
  const h = sha256Hex([tenantId, actorId, parts.feature, parts.signal_type, parts.day].join('\u0000'));
  return `usig_${h.slice(0, 32)}`;
}
