/**
 * The decision workflows' messages, without zod so the workflow bundle can import them (contract.ts re-exports them
 * next to the schemas the API validates with).
 */
import { defineUpdate } from '@temporalio/workflow';
import type { DecisionRef } from '../../domain/model/decision';
import type { DecideWorkflowInput } from './contract';

/** The long-lived workflow of one (tenant, shard): every decision of the shard's actors is an Update into it (ADR 0012). */
export const DECISION_SHARD_WORKFLOW_TYPE = 'decisionShardWorkflow';

export interface DecisionShardInput {
  tenant_id: string;
  shard: number;
  /**
   * Decisions accepted per run before it continues as new. The server allows 2,000 Updates per run; the default stays
   * well below so a run also ends before its history grows past the server's suggestion.
   */
  max_decisions_per_run: number;
  /**
   * A run also continues as new once it is this old (absent: never). A long-lived workflow stays on the worker that
   * has it cached (sticky execution) until it continues as new, whose first task any worker may take: so a worker
   * added to the tier takes its share of the shards within this time, not never (bench/scale.ts).
   */
  max_run_age_ms?: number;
}

/** One decision: the same input decideWorkflow takes, answered with a reference to the stored decision. */
export const decideUpdate = defineUpdate<DecisionRef, [DecideWorkflowInput]>('decide');

/**
 * Application failure type of an Update the validator refused because the run is about to continue as new (or the
 * input names another tenant). Nothing is recorded; the client sends it again and reaches the next run.
 */
export const SHARD_DRAINING = 'DecisionShardDraining';
export const WRONG_TENANT = 'DecisionShardWrongTenant';
