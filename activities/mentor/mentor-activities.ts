import type { StoredEnrichment } from '../../db/repositories/action-enrichment-repository';
import type { MentorEnrichmentTask } from '../../domain/mentor/mentor-planning';
import {
  MENTOR_MAX_TOKENS,
  buildMentorPrompt,
  collectEvidence,
  gatewayFailureReason,
  interpretGatewayAnswer,
  renderEnrichedPayload,
  templateRationale,
  type Enrichment,
} from '../../domain/mentor/mentor-rules';
import type { LlmGatewayClient } from '../clients/llm-gateway-client';
import { ServiceCallError } from '../../lib/clients/service-client';
import type { Metrics } from '../../observability/metrics';

export interface MentorDeps {
  /** Absent when LLM_GATEWAY_BASE_URL is unset: mentor actions keep their templates and say so. */
  llm?: LlmGatewayClient;
  enrichments?: { apply(e: StoredEnrichment): Promise<boolean> };
  metrics?: Pick<Metrics, 'mentorEnrichments'>;
}

export interface GenerateMentorInput {
  tenant_id: string;
  decision_id: string;
  task: MentorEnrichmentTask;
}

/** What to write into the stored action: the enriched payload, or the template's enrichment status and why. */
export interface MentorEnrichmentResult {
  action_id: string;
  payload: Record<string, unknown>;
  degraded_reason: string | null;
}

function templateStands(actionId: string, reason: string): MentorEnrichmentResult {
  const enrichment: Enrichment = { status: 'template', reason };
  return { action_id: actionId, payload: { enrichment }, degraded_reason: reason };
}

export function createMentorActivities(deps: MentorDeps) {
  return {
    /** Read in the decision's first task (a local activity): whether enrichment may be attempted at all. */
    async mentorGatewayStatus(): Promise<{ configured: boolean; circuit_open: boolean }> {
      return { configured: deps.llm !== undefined, circuit_open: deps.llm?.breakerState() === 'open' };
    },

    /**
     * One gateway call per mentor action, with the minimised prompt. A failed call is an answer here, not an error:
     * the template stands with the reason (the breaker counts the failure; retrying would only hold the fallback up).
     */
    async generateMentorEnrichment(input: GenerateMentorInput): Promise<MentorEnrichmentResult> {
      const { task } = input;
      if (!deps.llm) return templateStands(task.action_id, gatewayFailureReason('unset'));
      const evidence = collectEvidence(task.context);
      const fallback = templateRationale(task.context);
      let answer;
      try {
        answer = await deps.llm.generate(
          { tenant_id: input.tenant_id, prompt: buildMentorPrompt(task.context, task.template, evidence), max_tokens: MENTOR_MAX_TOKENS },
          { idempotencyKey: `${input.decision_id}/${task.action_id}/mentor` },
        );
      } catch (err) {
        const kind = err instanceof ServiceCallError ? err.kind : 'network';
        return templateStands(task.action_id, gatewayFailureReason(kind));
      }
      const verdict = interpretGatewayAnswer(answer, evidence, fallback);
      if (verdict.kind === 'fallback') return templateStands(task.action_id, verdict.reason);
      const rendered = renderEnrichedPayload({
        title: verdict.title || task.fallback_title,
        body: verdict.body,
        surfaces: task.surfaces,
        severity: task.severity,
        playbookId: task.context.playbook_id,
        playbookVersion: task.context.playbook_version,
        actionId: task.action_id,
      });
      const enrichment: Enrichment = { status: 'enriched', reason: null, redactions: verdict.redactions, dropped_claims: verdict.dropped_claims };
      return { action_id: task.action_id, payload: { ...rendered, rationale: verdict.rationale, enrichment }, degraded_reason: null };
    },

    async storeMentorEnrichment(input: { tenant_id: string; decision_id: string; result: MentorEnrichmentResult }): Promise<boolean> {
      if (!deps.enrichments) throw new Error('no enrichment store is configured');
      const enrichment = input.result.payload.enrichment as Enrichment;
      deps.metrics?.mentorEnrichments.inc({ outcome: enrichment.status === 'enriched' ? 'enriched' : (enrichment.reason ?? 'template') });
      return deps.enrichments.apply({
        tenant_id: input.tenant_id,
        decision_id: input.decision_id,
        action_id: input.result.action_id,
        payload: input.result.payload,
        degraded_reason: input.result.degraded_reason,
      });
    },
  };
}
