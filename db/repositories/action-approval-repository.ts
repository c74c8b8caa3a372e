import { QueryTypes, type Sequelize } from 'sequelize';
import { ForbiddenError, NotFoundError } from '../../domain/errors';
import type { ReceiptLedger } from './receipt-ledger';

export interface OpenApproval {
  action_id: string;
  tenant_id: string;
  decision_id: string;
  actor_id: string;
  workflow_id: string;
  action_digest: string;
  /** Approvals needed besides consent, so the status reads right before the workflow has started. */
  required_approvals: number;
  expires_at: string;
}

export interface ApprovalTransition {
  action_id: string;
  tenant_id: string;
  decision_id: string;
  /** Position in the action's transitions (0 = opened); with action_id, the idempotency key of the write. */
  seq: number;
  status: string;
  /** What happened: opened, consented, declined, vote, revised, expired, approved, executing, executed, failed. */
  event: string;
  action_digest: string;
  detail: Record<string, unknown>;
  at: string;
}

/** An opened approval as the projection holds it. */
export type ApprovalRow = OpenApproval & { status: string };

/**
 * The approval projection and its receipts. Every transition is one transaction: the transition row, its receipt in
 * the tenant's hash chain (receipt-ledger.ts) and the projected status, so there is never a transition without a
 * receipt. A retried activity finds its transition and returns the receipt it already wrote.
 */
export function createActionApprovalRepository(sequelize: Sequelize, ledger: ReceiptLedger) {
  return {
    /** Written with the decision, before the decide answer leaves, so consent can follow the answer at once. */
    async open(rows: OpenApproval[]): Promise<void> {
      if (rows.length === 0) return;
      // One statement for all of a decision's multiplier actions: this runs on the commit path.
      await sequelize.query(
        `INSERT INTO action_approvals (action_id, tenant_id, decision_id, actor_id, workflow_id, status, action_digest, required_approvals, expires_at)
         SELECT r.action_id, r.tenant_id, r.decision_id, r.actor_id, r.workflow_id, 'awaiting_consent', r.action_digest, r.required_approvals, r.expires_at
           FROM jsonb_to_recordset(:rows::jsonb) AS r(action_id text, tenant_id text, decision_id text, actor_id text, workflow_id text,
                                                        action_digest text, required_approvals integer, expires_at timestamptz)
         ON CONFLICT (action_id) DO NOTHING`,
        { replacements: { rows: JSON.stringify(rows) } },
      );
    },

    async recordTransition(t: ApprovalTransition): Promise<{ receipt_id: string }> {
      return sequelize.transaction(async (transaction) => {
        const head = await ledger.lockHead(t.tenant_id, transaction);
        const [existing] = await sequelize.query<{ receipt_id: string }>(
          'SELECT receipt_id FROM action_approval_transitions WHERE action_id = :action_id AND seq = :seq',
          { replacements: { action_id: t.action_id, seq: t.seq }, transaction, type: QueryTypes.SELECT },
        );
        if (existing) return { receipt_id: existing.receipt_id };
        const payload = {
          action_id: t.action_id,
          seq: t.seq,
          event: t.event,
          status: t.status,
          action_digest: t.action_digest,
          ...t.detail,
        };
        const receipt = await ledger.append(
          { tenantId: t.tenant_id, decisionId: t.decision_id, kind: `approval.${t.event}`, payload, createdAt: new Date(t.at) },
          transaction,
          head,
          {
            sql: `, transition AS (
                    INSERT INTO action_approval_transitions (action_id, seq, tenant_id, status, event, receipt_id, detail, at)
                    VALUES (:t_action, :t_seq, :tenantId, :t_status, :t_event, :receiptId, CAST(:t_detail AS jsonb), :createdAt)
                  )
                  UPDATE action_approvals SET status = :t_status, action_digest = :t_digest, updated_at = now()
                  WHERE action_id = :t_action AND tenant_id = :tenantId`,
            replacements: {
              t_action: t.action_id, t_seq: t.seq, t_status: t.status, t_event: t.event, t_digest: t.action_digest,
              t_detail: JSON.stringify(t.detail),
            },
          },
        );
        return { receipt_id: receipt.receipt_id };
      });
    },

    async get(tenantId: string, actionId: string): Promise<ApprovalRow> {
      const [row] = await sequelize.query<ApprovalRow & { expires_at: Date }>(
        'SELECT action_id, tenant_id, decision_id, actor_id, workflow_id, status, action_digest, required_approvals, expires_at FROM action_approvals WHERE action_id = :actionId',
        { replacements: { actionId }, type: QueryTypes.SELECT },
      );
      if (!row) throw new NotFoundError('action', actionId);
      if (row.tenant_id !== tenantId) throw new ForbiddenError('forbidden_tenant', 'this action belongs to another tenant');
      return { ...row, expires_at: new Date(row.expires_at).toISOString() };
    },
  };
}
export type ActionApprovalRepository = ReturnType<typeof createActionApprovalRepository>;
