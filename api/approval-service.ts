import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { AppError, DependencyUnavailableError } from '../domain/errors';
import { closedRefusal, isOpen, type Refusal } from '../domain/approval/approval-rules';
import type { ApprovalRow } from '../db/repositories/action-approval-repository';
import {
  APPROVAL_REFUSED,
  approvalStatusQuery,
  approveUpdate,
  consentUpdate,
  type ApprovalStatusView,
} from '../workflows/approval/contract';
import type { AuthContext } from './auth';
import { sleep } from '../lib/sleep';

export interface ApprovalServiceDeps {
  client: Client;
  approvals: { get(tenantId: string, actionId: string): Promise<ApprovalRow> };
  /** How long a consent waits for an approval workflow that the decision is still starting. */
  startWaitMs?: number;
}

/**
 * Consent, approvals and status of multiplier actions: the API finds the action's approval (tenant and actor) in the
 * projection, then talks to its workflow. The workflow's update validators decide; a refusal comes back as the
 * matching 4xx and the workflow records nothing.
 */
export function createApprovalService(deps: ApprovalServiceDeps) {
  const startWaitMs = deps.startWaitMs ?? 3_000;

  async function withWorkflow<T>(row: ApprovalRow, run: (handle: WorkflowHandle) => Promise<T>): Promise<T> {
    const handle = deps.client.workflow.getHandle(row.workflow_id);
    const deadline = Date.now() + startWaitMs;
    for (;;) {
      try {
        return await run(handle);
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) throw fromUpdateFailure(err);
        if (!(err instanceof WorkflowNotFoundError)) throw unavailable(err);
        // Either the decision is still starting it (wait a little), or it is closed (its status says why).
        const current = await queryStatus(handle).catch(() => null);
        if (current && !isOpen(current.status)) throw closedConflict(current);
        if (Date.now() > deadline) throw new AppError(503, 'approval_not_started', 'the approval workflow of this action has not started yet; retry shortly');
        if (!current) await sleep(100); // not started yet; when it has started in the meantime, retry at once
      }
    }
  }

  const queryStatus = (handle: WorkflowHandle) => handle.query(approvalStatusQuery);

  return {
    /** The approval of an action in the caller's tenant (the routes load it once, to authorise and to act on). */
    find(auth: AuthContext, actionId: string): Promise<ApprovalRow> {
      return deps.approvals.get(auth.tenant_id, actionId);
    },

    /** Only the actor consents: the route's rule says so, and the workflow's validator checks it again. */
    async consent(auth: AuthContext, row: ApprovalRow, body: { decision: 'consent' | 'decline'; action_digest?: string }): Promise<ApprovalStatusView> {
      return withWorkflow(row, (h) =>
        h.executeUpdate(consentUpdate, { args: [{ actor_id: auth.sub, decision: body.decision, action_digest: body.action_digest ?? null }] }),
      );
    },

    /** Who may approve beyond the `approver` role (not the actor, two distinct approvers and channels) is the workflow's rule. */
    async approve(
      auth: AuthContext,
      row: ApprovalRow,
      body: { channel: string; decision: 'approve' | 'reject'; comment?: string; action_digest?: string },
    ): Promise<ApprovalStatusView> {
      return withWorkflow(row, (h) =>
        h.executeUpdate(approveUpdate, {
          args: [
            {
              approver_id: auth.sub,
              roles: auth.roles,
              channel: body.channel,
              decision: body.decision,
              comment: body.comment ?? null,
              action_digest: body.action_digest ?? null,
            },
          ],
        }),
      );
    },

    async status(row: ApprovalRow): Promise<ApprovalStatusView> {
      try {
        return await queryStatus(deps.client.workflow.getHandle(row.workflow_id));
      } catch (err) {
        // Opened with the decision, workflow not started yet: the projection is the status.
        if (err instanceof WorkflowNotFoundError) return fromRow(row);
        throw unavailable(err);
      }
    },
  };
}
export type ApprovalService = ReturnType<typeof createApprovalService>;

function fromRow(row: ApprovalRow): ApprovalStatusView {
  return {
    action_id: row.action_id,
    decision_id: row.decision_id,
    status: row.status as ApprovalStatusView['status'],
    action_digest: row.action_digest,
    required_approvals: row.required_approvals,
    consented_at: null,
    approvals: [],
    expires_at: row.expires_at,
    execution: null,
    failure_reason: null,
  };
}

function fromUpdateFailure(err: WorkflowUpdateFailedError): AppError {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type === APPROVAL_REFUSED) {
    const refusal = cause.details?.[0] as Refusal | undefined;
    if (refusal) return refusalError(refusal);
  }
  return new AppError(500, 'approval_update_failed', 'the approval could not be recorded', undefined, { cause: err });
}

/** The domain's refusals (domain/approval/approval-rules.ts) as the API's errors: one wording for both paths. */
function refusalError(refusal: Refusal, details?: unknown): AppError {
  return new AppError(refusal.status, refusal.code, refusal.message, details);
}

function closedConflict(status: ApprovalStatusView): AppError {
  return refusalError(closedRefusal(status.status), { status: status.status });
}

function unavailable(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new DependencyUnavailableError('temporal', 'the approval service is unavailable; retry shortly', { cause: err });
}
