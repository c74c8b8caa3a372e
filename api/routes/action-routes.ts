import { z } from 'zod';
import { idSchema } from '../../domain/model/common';
import { approvalStatusSchema, approveBodySchema, consentBodySchema } from '../../workflows/approval/contract';
import type { ApprovalService } from '../approval-service';
import type { AuthContext } from '../auth';
import { ADMINS } from '../authorization';
import { defineRoute } from '../route';

const params = z.object({ action_id: idSchema });

/** Consent, approval and status of multiplier actions (CONTRACT.md); the approval workflow decides, handlers map. */
export function actionRoutes(deps: { approvals: ApprovalService }) {
  // The action's approval in the token's tenant, loaded once before the handler; the action's actor owns it.
  const approval = {
    load: ({ params: p, auth }: { params: { action_id: string }; auth: AuthContext }) => deps.approvals.find(auth, p.action_id),
    owner: (row: { actor_id: string }) => row.actor_id,
  };
  return [
    defineRoute({
      method: 'post',
      path: '/v1/mmm/actions/:action_id/consent',
      summary: "The actor's explicit consent to (or decline of) a multiplier action",
      tag: 'actions',
      // Consent is the actor's own act: no role gives it on their behalf.
      auth: { roles: [], tenant: 'token', self: 'resource' },
      params,
      resource: approval,
      body: consentBodySchema,
      response: approvalStatusSchema,
      async handler({ resource: row, body, auth }) {
        return { body: await deps.approvals.consent(auth, row, body) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/mmm/actions/:action_id/approve',
      summary: 'An approval or rejection through one channel; dual channel needs two approvers on two channels, neither the actor',
      tag: 'actions',
      // "Not the actor" and "two distinct approvers on two channels" depend on the approval's state: the workflow's
      // update validator keeps them (domain/approval/approval-rules.ts), so a direct update is held to them too.
      auth: { roles: ['approver'], tenant: 'token', also: 'the approver is not the actor, and dual channel needs two distinct approvers on two distinct channels (409/403 from the approval)' },
      params,
      resource: approval,
      body: approveBodySchema,
      response: approvalStatusSchema,
      async handler({ resource: row, body, auth }) {
        return { body: await deps.approvals.approve(auth, row, body) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/mmm/actions/:action_id/approval-status',
      summary: "The approval's status, from a query of its workflow",
      tag: 'actions',
      // Part of the decision: the same readers as GET /v1/mmm/decisions/{decision_id}.
      auth: { roles: ['service', 'approver', ...ADMINS], tenant: 'token', self: 'resource' },
      params,
      resource: approval,
      response: approvalStatusSchema,
      async handler({ resource: row }) {
        return { body: await deps.approvals.status(row) };
      },
    }),
  ];
}
