import { z } from 'zod';
import { idSchema } from '../../domain/model/common';
import { experimentInputSchema, experimentSchema, experimentStatusSchema } from '../../domain/model/experiment';
import type { ExperimentService } from '../experiment-service';
import { ADMINS, type AuthRule } from '../authorization';
import { defineRoute } from '../route';

/** Experiments live in the token's tenant, like the playbooks they vary. */
const EXPERIMENT_ADMINS: AuthRule = { roles: ADMINS, tenant: 'token' };
const byId = z.object({ id: idSchema });

export function experimentRoutes(deps: { experiments: ExperimentService }) {
  const svc = () => deps.experiments;
  return [
    defineRoute({
      method: 'get', path: '/v1/mmm/experiments', summary: "The tenant's experiments, each with its live results", tag: 'experiments', auth: EXPERIMENT_ADMINS,
      query: z.object({ status: experimentStatusSchema.optional() }),
      response: z.object({ experiments: z.array(experimentSchema) }),
      async handler({ query, auth }) {
        return { body: { experiments: await svc().list(auth.tenant_id, query.status) } };
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/mmm/experiments', summary: 'Create an experiment on a published playbook (draft)', tag: 'experiments', auth: EXPERIMENT_ADMINS,
      body: experimentInputSchema, response: experimentSchema, status: 201,
      async handler({ body, auth }) {
        return { body: await svc().create(auth.tenant_id, body, auth.sub) };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/mmm/experiments/:id', summary: 'An experiment with its live results', tag: 'experiments', auth: EXPERIMENT_ADMINS,
      params: byId, response: experimentSchema,
      async handler({ params, auth }) {
        return { body: await svc().get(auth.tenant_id, params.id) };
      },
    }),
    defineRoute({
      method: 'put', path: '/v1/mmm/experiments/:id', summary: 'Replace the definition of a draft or paused experiment (else 409)', tag: 'experiments', auth: EXPERIMENT_ADMINS,
      params: byId, body: experimentInputSchema, response: experimentSchema,
      async handler({ params, body, auth }) {
        return { body: await svc().update(auth.tenant_id, params.id, body, auth.sub) };
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/mmm/experiments/:id/activate', summary: "Let the experiment steer its playbook's decisions; 409 when another on the playbook is active", tag: 'experiments', auth: EXPERIMENT_ADMINS,
      params: byId, response: experimentSchema,
      async handler({ params, auth }) {
        return { body: await svc().activate(auth.tenant_id, params.id, auth.sub) };
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/mmm/experiments/:id/deactivate', summary: 'Complete the experiment: it stops steering, its results stay', tag: 'experiments', auth: EXPERIMENT_ADMINS,
      params: byId, response: experimentSchema,
      async handler({ params, auth }) {
        return { body: await svc().deactivate(auth.tenant_id, params.id, auth.sub) };
      },
    }),
  ];
}
