import { AppError, ConflictError, ValidationError } from '../domain/errors';
import { initialArmState, buildResults, overrideProblems } from '../domain/experiments/results';
import type { Experiment, ExperimentInput, ExperimentStatus } from '../domain/model/experiment';
import type { PlaybookInput } from '../domain/model/playbook';
import type { ExperimentRepository, StoredExperiment } from '../db/repositories/experiment-repository';
import type { PlaybookRepository } from '../db/repositories/playbook-repository';

/** The per-tenant experiment Schedule (temporal/experiment-schedules.ts), as the use cases need it. */
export interface ExperimentScheduler {
  ensure(tenantId: string): Promise<boolean>;
  trigger(tenantId: string): Promise<void>;
}

export interface ExperimentServiceDeps {
  experiments: ExperimentRepository;
  playbooks: Pick<PlaybookRepository, 'get'>;
  scheduler?: ExperimentScheduler;
  /** Outcomes since the last recompute that trigger the Schedule at once (EXPERIMENT_TRIGGER_OUTCOMES). */
  triggerOutcomes?: number;
}

/**
 * The experiment use cases (FR-9, ADR 0017): routes parse, call one of these and map. A definition is checked against
 * its playbook's published version before anything is written, so bad input never leaves a half-written record.
 */
export function createExperimentService(deps: ExperimentServiceDeps) {
  const repo = deps.experiments;

  /** The published version of the playbook, or a 422 naming `playbook_id` (unknown, another tenant's, unpublished). */
  async function publishedDefinition(tenantId: string, playbookId: string): Promise<PlaybookInput> {
    const refuse = (message: string) => new ValidationError('the experiment is not valid', [{ field: 'playbook_id', message }]);
    let latest;
    try {
      latest = await deps.playbooks.get(tenantId, playbookId);
    } catch (err) {
      // Another tenant's playbook is, to this tenant, one that does not exist.
      if (err instanceof AppError && (err.status === 404 || err.status === 403)) throw refuse('no playbook with this id in this tenant');
      throw err;
    }
    if (latest.status === 'archived' || latest.published_version === null) throw refuse(`the playbook is ${latest.status === 'archived' ? 'archived' : 'not published'}; an experiment varies a published playbook`);
    const published = latest.version === latest.published_version ? latest : await deps.playbooks.get(tenantId, playbookId, latest.published_version);
    return published;
  }

  /** The definition holds against its playbook's published version, else a 422 naming the field. */
  async function checked(tenantId: string, input: ExperimentInput): Promise<void> {
    const problems = overrideProblems(input, await publishedDefinition(tenantId, input.playbook_id));
    if (problems.length) throw new ValidationError('the experiment is not valid', problems);
  }

  /** The state check comes before the input's (the repository repeats it under the row lock): a 409 is not hidden by a 422. */
  async function inState(tenantId: string, id: string, from: ExperimentStatus[], what: string): Promise<StoredExperiment> {
    const current = await repo.get(tenantId, id);
    if (!from.includes(current.status))
      throw new ConflictError('experiment_state_conflict', `the experiment is ${current.status}; ${what} needs it to be ${from.join(' or ')}`, { status: current.status });
    return current;
  }

  async function view(stored: StoredExperiment, live = true): Promise<Experiment> {
    const d = stored.definition;
    const counts = await repo.counts(stored.experiment_id);
    const behaviour = d.metric.kind === 'behaviour' ? await repo.behaviourSamples(stored.experiment_id, d.metric.feature, d.metric.window_days) : undefined;
    return {
      experiment_id: stored.experiment_id,
      tenant_id: stored.tenant_id,
      ...d,
      guardrails: d.guardrails ?? null,
      status: stored.status,
      created_at: stored.created_at,
      updated_at: stored.updated_at,
      results: buildResults({ experimentId: stored.experiment_id, definition: d, arms: stored.arms, counts, weightsUpdatedAt: stored.weights_updated_at, behaviour, live }),
    };
  }

  return {
    async create(tenantId: string, input: ExperimentInput, sub: string): Promise<Experiment> {
      await checked(tenantId, input);
      return view(await repo.create(tenantId, input, initialArmState(input), sub));
    },
    async update(tenantId: string, id: string, input: ExperimentInput, sub: string): Promise<Experiment> {
      await inState(tenantId, id, ['draft', 'paused'], 'an edit');
      await checked(tenantId, input);
      return view(await repo.update(tenantId, id, input, initialArmState(input), sub));
    },
    async get(tenantId: string, id: string): Promise<Experiment> {
      return view(await repo.get(tenantId, id));
    },
    async list(tenantId: string, status?: ExperimentStatus): Promise<Experiment[]> {
      return Promise.all((await repo.list(tenantId, status)).map((e) => view(e, false)));
    },
    /**
     * Activation re-checks the playbook (it may have been re-published or archived since), starts from the weights the
     * current counts give (none for a new experiment), lifts every pause, and makes sure the tenant's Schedule exists.
     */
    async activate(tenantId: string, id: string, sub: string): Promise<Experiment> {
      const current = await inState(tenantId, id, ['draft', 'paused'], 'activation');
      await checked(tenantId, current.definition);
      const weights = initialArmState(current.definition, await repo.counts(id), id);
      const after = await repo.transition(tenantId, id, ['draft', 'paused'], 'active', sub, 'experiment.activate', weights);
      await deps.scheduler?.ensure(tenantId);
      return view(after);
    },
    /**
     * An outcome was recorded: an experiment that touched the decision and has now had `triggerOutcomes` outcomes since
     * its last recompute gets its tenant's Schedule triggered ("sooner after enough new outcomes"). Never fails the
     * outcome: the next interval recomputes anyway.
     */
    async outcomeRecorded(decisionId: string): Promise<void> {
      if (!deps.scheduler) return;
      const tenants = await repo.noteOutcome(decisionId, deps.triggerOutcomes ?? 50);
      await Promise.all(tenants.map((t) => deps.scheduler!.trigger(t)));
    },
    async deactivate(tenantId: string, id: string, sub: string): Promise<Experiment> {
      return view(await repo.transition(tenantId, id, ['draft', 'active', 'paused'], 'completed', sub, 'experiment.deactivate'));
    },
  };
}
export type ExperimentService = ReturnType<typeof createExperimentService>;
