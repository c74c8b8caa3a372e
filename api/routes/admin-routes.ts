import { z } from 'zod';
import { idSchema } from '../../domain/model/common';
import { playbookInputSchema, playbookSchema, playbookStatusSchema } from '../../domain/model/playbook';
import { tenantPolicyInputSchema, tenantPolicySchema } from '../../domain/model/policy';
import type { PlaybookRepository } from '../../db/repositories/playbook-repository';
import type { PolicyRepository } from '../../db/repositories/policy-repository';
import { ADMINS, type AuthRule } from '../authorization';
import { defineRoute } from '../route';

/** Playbooks live in the token's tenant; the tenant policy names its tenant in the path. */
const PLAYBOOK_ADMINS: AuthRule = { roles: ADMINS, tenant: 'token' };
const POLICY_ADMINS: AuthRule = { roles: ADMINS, tenant: 'path' };
const byId = z.object({ id: idSchema });

export function playbookRoutes(deps: { playbooks: PlaybookRepository }) {
  const pb = deps.playbooks;
  return [
    defineRoute({
      method: 'get', path: '/v1/mmm/playbooks', summary: "The tenant's playbooks (latest version of each)", tag: 'playbooks', auth: PLAYBOOK_ADMINS,
      query: z.object({ status: playbookStatusSchema.optional() }),
      response: z.object({ playbooks: z.array(playbookSchema) }),
      async handler({ query, auth }) {
        return { body: { playbooks: await pb.list(auth.tenant_id, query.status) } };
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/mmm/playbooks', summary: 'Create a playbook (version 1, draft)', tag: 'playbooks', auth: PLAYBOOK_ADMINS,
      body: playbookInputSchema, response: playbookSchema, status: 201,
      async handler({ body, auth }) {
        return { body: await pb.create(auth.tenant_id, body, auth.sub) };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/mmm/playbooks/:id', summary: 'A playbook: its latest version, or `?version=N`', tag: 'playbooks', auth: PLAYBOOK_ADMINS,
      params: byId, query: z.object({ version: z.coerce.number().int().min(1).optional() }), response: playbookSchema,
      async handler({ params, query, auth }) {
        return { body: await pb.get(auth.tenant_id, params.id, query.version) };
      },
    }),
    defineRoute({
      method: 'put', path: '/v1/mmm/playbooks/:id', summary: 'Write a new draft version', tag: 'playbooks', auth: PLAYBOOK_ADMINS,
      params: byId, body: playbookInputSchema, response: playbookSchema,
      async handler({ params, body, auth }) {
        return { body: await pb.update(auth.tenant_id, params.id, body, auth.sub) };
      },
    }),
    defineRoute({
      method: 'delete', path: '/v1/mmm/playbooks/:id', summary: 'Archive a playbook (decisions stop using it)', tag: 'playbooks', auth: PLAYBOOK_ADMINS,
      params: byId, response: playbookSchema,
      async handler({ params, auth }) {
        return { body: await pb.archive(auth.tenant_id, params.id, auth.sub) };
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/mmm/playbooks/:id/publish', summary: 'Publish the latest version; 409 when it is already published', tag: 'playbooks', auth: PLAYBOOK_ADMINS,
      params: byId, response: playbookSchema,
      async handler({ params, auth }) {
        return { body: await pb.publish(auth.tenant_id, params.id, auth.sub) };
      },
    }),
  ];
}

export function policyRoutes(deps: { policies: PolicyRepository; schedules?: { ensure(tenantId: string): Promise<boolean> } }) {
  const params = z.object({ tenant_id: idSchema });
  return [
    defineRoute({
      method: 'get', path: '/v1/mmm/tenants/:tenant_id/policy', summary: "The tenant's MMM policy (defaults until one is written)", tag: 'policy', auth: POLICY_ADMINS,
      params, response: tenantPolicySchema,
      async handler({ params: p }) {
        return { body: await deps.policies.get(p.tenant_id) };
      },
    }),
    defineRoute({
      method: 'put', path: '/v1/mmm/tenants/:tenant_id/policy', summary: 'Replace the tenant policy (omitted fields take their defaults); bumps the version', tag: 'policy', auth: POLICY_ADMINS,
      params, body: tenantPolicyInputSchema, response: tenantPolicySchema,
      async handler({ params: p, body, auth }) {
        const policy = await deps.policies.put(p.tenant_id, body, auth.sub);
        // A tenant with a policy gets its daily retention Schedule (issue 12); failures are logged and retried later.
        void deps.schedules?.ensure(p.tenant_id);
        return { body: policy };
      },
    }),
  ];
}
