/**
 * What the decide workflow does for mentor actions before it commits: every mentor action gets its template
 * rationale, and is marked pending enrichment when the LLM gateway may improve it later (the decision never waits for
 * it), or template with the reason when it will not.
 */
import type { ActionPlan, CandidateAction } from '../action-planning';
import type { MatchedPlaybook, MatchInput } from '../playbook-matching';
import { templateValues } from '../rendering';
import { fillTemplate } from '../templates';
import type { Severity, Surface } from '../model/common';
import type { RecentSignal } from '../model/signal';
import { templateRationale, type Enrichment, type MentorContext } from './mentor-rules';

export interface MentorPlanArgs {
  request: MatchInput & { actor_id: string };
  matched: MatchedPlaybook[];
  recent_signals: RecentSignal[];
  llm_enabled: boolean;
  /** Whether this deployment has an LLM gateway (and its breaker is not open); null when not asked (llm disabled). */
  gateway: { configured: boolean; circuit_open: boolean } | null;
}

export interface MentorEnrichmentTask {
  action_id: string;
  /** The playbook's wording, placeholders unfilled: what the prompt may carry. */
  template: { title: string; body: string };
  /** The rendered template title, kept when the gateway offers none. */
  fallback_title: string;
  surfaces: Surface[];
  severity: Severity;
  context: MentorContext;
}

export interface MentorPlan {
  plan: ActionPlan;
  /** Actions the enrichment workflow should try to improve after the commit. */
  tasks: MentorEnrichmentTask[];
  /** Reasons the template stands for this decision that are a degradation (not a policy choice). */
  degraded_reasons: string[];
}

export function hasMentorCandidates(plan: ActionPlan): boolean {
  return plan.candidates.some((c) => c.action.type === 'mentor');
}

function initialEnrichment(args: MentorPlanArgs): Enrichment {
  if (!args.llm_enabled) return { status: 'template', reason: 'llm_disabled' };
  if (!args.gateway?.configured) return { status: 'template', reason: 'llm_gateway_unset' };
  if (args.gateway.circuit_open) return { status: 'template', reason: 'llm_gateway_circuit_open' };
  return { status: 'pending', reason: null };
}

export function planMentorActions(plan: ActionPlan, args: MentorPlanArgs): MentorPlan {
  const enrichment = initialEnrichment(args);
  const tasks: MentorEnrichmentTask[] = [];
  const values = templateValues(args.request);
  let anyMentor = false;
  const candidates = plan.candidates.map((c): CandidateAction => {
    if (c.action.type !== 'mentor') return c;
    anyMentor = true;
    const playbook = args.matched.find((m) => m.playbook_id === c.action.playbook_id);
    // The playbook's own (unfilled) wording of this action: the one whose rendering is this action's text.
    const mentors = playbook?.definition.actions.filter((a) => a.type === 'mentor') ?? [];
    const definition =
      mentors.find((a) => fillTemplate(a.title, values) === c.action.payload.title && fillTemplate(a.body, values) === c.action.payload.body) ?? mentors[0];
    const context: MentorContext = {
      actor_id: args.request.actor_id,
      actor_type: args.request.actor_type,
      surface: args.request.surface,
      file_path: args.request.file_path ?? null,
      signal: args.request.signal ?? null,
      recent_signals: args.recent_signals,
      playbook_id: c.action.playbook_id,
      playbook_version: c.action.playbook_version,
      playbook_name: playbook?.definition.name ?? c.action.playbook_id,
    };
    if (enrichment.status === 'pending')
      tasks.push({
        action_id: c.action.action_id,
        template: { title: definition?.title ?? c.action.payload.title, body: definition?.body ?? c.action.payload.body },
        fallback_title: c.action.payload.title,
        surfaces: c.action.surfaces,
        severity: args.request.signal?.severity ?? 'info',
        context,
      });
    return { ...c, action: { ...c.action, payload: { ...c.action.payload, rationale: templateRationale(context), enrichment: { ...enrichment } } } };
  });
  const degraded = anyMentor && enrichment.status === 'template' && enrichment.reason !== 'llm_disabled' ? [enrichment.reason as string] : [];
  return { plan: { ...plan, candidates }, tasks, degraded_reasons: degraded };
}
