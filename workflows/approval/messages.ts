/**
 * The approval workflow's messages, without zod so the workflow bundle can import them (contract.ts re-exports them
 * next to the schemas the API validates with).
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ApprovableAction } from '../../domain/approval/action-digest';
import type { ApprovalStatus, ApprovalVote, ConsentRequest, Execution } from '../../domain/approval/approval-rules';
import type { ApprovalTask } from '../../domain/approval/approval-planning';

export interface ApprovalWorkflowInput {
  tenant_id: string;
  decision_id: string;
  task: ApprovalTask;
}

export interface ApprovalStatusView {
  action_id: string;
  decision_id: string;
  status: ApprovalStatus;
  action_digest: string;
  required_approvals: number;
  consented_at: string | null;
  approvals: Array<{ approver_id: string; channel: string; decision: 'approve' | 'reject'; at: string; comment: string | null }>;
  expires_at: string;
  execution: Execution | null;
  failure_reason: string | null;
}

/** Application failure type of a refused update; its details carry the refusal (code, HTTP status, message). */
export const APPROVAL_REFUSED = 'ApprovalRefused';

export const approvalStatusQuery = defineQuery<ApprovalStatusView>('approvalStatus');
export const consentUpdate = defineUpdate<ApprovalStatusView, [ConsentRequest]>('consent');
export const approveUpdate = defineUpdate<ApprovalStatusView, [ApprovalVote]>('approve');
/** A changed action voids consent and approvals (they were for another digest). */
export const reviseActionUpdate = defineUpdate<ApprovalStatusView, [{ action: ApprovableAction }]>('reviseAction');

