import { z } from 'zod';
import { idSchema } from '../../domain/model/common';
import { approvalStatusSchema, approveBodySchema, consentBodySchema } from '../../workflows/approval/contract';
import type { ApprovalService } from '../approval-service';
import { requireRole } from '../auth';
import { defineRoute } from '../route';

const params = z.object({ action_id: idSchema });

/** Consent, approval and status of multiplier actions (CONTRACT.md); the approval workflow decides, handlers map. */
export function actionRoutes(deps: { approvals: ApprovalService }) {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/mmm/actions/:action_id/consent',
      summary: "The actor's explicit consent to (or decline of) a multiplier action",
      tag: 'actions',
      access: 'the actor of the action only',
      params,
      body: consentBodySchema,
      response: approvalStatusSchema,
      async handler({ params: p, body, auth }) {
        return { body: await deps.approvals.consent(auth, p.action_id, body) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/mmm/actions/:action_id/approve',
      summary: 'An approval or rejection through one channel; dual channel needs two approvers on two channels, neither the actor',
      tag: 'actions',
      access: '`approver` of the tenant, not the actor',
      params,
      body: approveBodySchema,
      response: approvalStatusSchema,
      async handler({ params: p, body, auth }) {
        requireRole(auth, ['approver']);
        return { body: await deps.approvals.approve(auth, p.action_id, body) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/mmm/actions/:action_id/approval-status',
      summary: "The approval's status, from a query of its workflow",
      tag: 'actions',
      access: 'the tenant',
      params,
      response: approvalStatusSchema,
      async handler({ params: p, auth }) {
        return { body: await deps.approvals.status(auth, p.action_id) };
      },
    }),
  ];
}
