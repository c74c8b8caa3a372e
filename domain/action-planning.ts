/**
 * From matched playbooks to the actions a decision may show. Eligibility only: fatigue and cool-downs need shared
 * state and are settled afterwards by reserving slots (domain/fatigue.ts) for the candidates returned here.
 */
import type { ActionType, Surface } from './model/common';
import { SURFACE_VALUES as SURFACES } from './model/constants';
import type { Action, DecisionOutcome, Suppressed, SuppressionReason, Why } from './model/decision';
import type { PlaybookAction } from './model/playbook';
import type { TenantPolicyInput } from './model/policy';
import type { PreferencesInput } from './model/preferences';
import type { MatchedPlaybook, MatchInput } from './playbook-matching';
import { isInQuietHours } from './quiet-hours';
import { renderAction, templateValues } from './rendering';

export interface PlanInput {
  request: MatchInput & { actor_id: string };
  matched: MatchedPlaybook[];
  policy: TenantPolicyInput;
  preferences: PreferencesInput;
  now: Date;
  /** Injected so the workflow can use its deterministic uuid4 and tests can use a counter. */
  newActionId: () => string;
  /** Action types this deployment can deliver today; the rest are suppressed as not_supported. */
  supportedTypes: ActionType[];
}

export interface CandidateAction {
  action: Action;
  /** Cool-down is per playbook: two actions of one playbook share it. */
  cooldown_key: string;
  cooldown_ms: number;
  /** The experiment's holdout arm: reserved like any other, withheld if fatigue grants it (ADR 0017). */
  holdout?: boolean;
}

export interface ActionPlan {
  candidates: CandidateAction[];
  suppressed: Suppressed[];
  in_quiet_hours: boolean;
}

const MINUTE_MS = 60_000;

interface Survivor {
  playbook: MatchedPlaybook;
  definition: PlaybookAction;
  order: number;
  surfaces: Surface[];
}

function isSnoozed(snoozeUntil: string | null, now: Date): boolean {
  if (!snoozeUntil) return false;
  const until = Date.parse(snoozeUntil);
  return Number.isFinite(until) && until > now.getTime();
}

function compareSurvivors(a: Survivor, b: Survivor): number {
  if (a.definition.priority !== b.definition.priority) return b.definition.priority - a.definition.priority;
  // Code-unit comparison, not localeCompare: the order must not depend on the runtime's locale data.
  if (a.playbook.playbook_id !== b.playbook.playbook_id) return a.playbook.playbook_id < b.playbook.playbook_id ? -1 : 1;
  return a.order - b.order;
}

export function planActions(input: PlanInput): ActionPlan {
  const { request, policy, preferences, now } = input;
  const inQuietHours = isInQuietHours(now, policy.quiet_hours, preferences.timezone);
  const preferred = preferences.preferred_surfaces ?? [];
  const optedOut = preferences.opt_out_categories ?? [];
  const snoozed = isSnoozed(preferences.snooze_until, now);

  // The order of the checks is the order of the reasons: the first that fails is the one recorded.
  const reasonFor = (playbook: MatchedPlaybook, action: PlaybookAction): SuppressionReason | null => {
    if (!policy.allowed_action_types.includes(action.type)) return 'policy_disallowed';
    if (!input.supportedTypes.includes(action.type)) return 'not_supported';
    if (optedOut.includes(playbook.definition.category)) return 'opted_out';
    if (snoozed) return 'snoozed';
    if (inQuietHours) return 'quiet_hours';
    if (preferred.length > 0 && !preferred.includes(request.surface)) return 'surface_not_preferred';
    return null;
  };

  const suppressed: Suppressed[] = [];
  const survivors: Survivor[] = [];
  let order = 0;
  for (const playbook of input.matched) {
    for (const action of playbook.definition.actions) {
      const actionSurfaces = action.surfaces ?? [...SURFACES];
      // An action meant for other surfaces is not a suppression, just not this request's business.
      if (!actionSurfaces.includes(request.surface)) continue;
      const reason = reasonFor(playbook, action);
      if (reason) {
        suppressed.push({ playbook_id: playbook.playbook_id, playbook_version: playbook.version, action_type: action.type, reason });
        continue;
      }
      const surfaces = actionSurfaces.filter((s) => s === request.surface || preferred.length === 0 || preferred.includes(s));
      survivors.push({ playbook, definition: action, order: order++, surfaces });
    }
  }

  // Ids are drawn after sorting so they follow the final order, which keeps a replayed workflow's ids identical.
  survivors.sort(compareSurvivors);
  const values = templateValues(request);
  const severity = request.signal?.severity ?? 'info';
  const candidates = survivors.map(({ playbook, definition, surfaces }): CandidateAction => {
    const actionId = input.newActionId();
    const payload = renderAction({
      type: definition.type,
      title: definition.title,
      body: definition.body,
      values,
      severity,
      surfaces,
      playbookId: playbook.playbook_id,
      playbookVersion: playbook.version,
      actionId,
    });
    // FR-10: why this nudge. The arm and the remaining budget are filled in once known (arm planning, the commit).
    const why: Why = {
      playbook_id: playbook.playbook_id,
      playbook_version: playbook.version,
      trigger: playbook.trigger,
      conditions: (playbook.definition.conditions ?? []).map((c) => ({ field: c.field, op: c.op, value: c.value })),
      signal_id: request.signal?.signal_id ?? null,
      experiment: null,
      nudge_budget: null,
    };
    return {
      action: {
        action_id: actionId,
        type: definition.type,
        playbook_id: playbook.playbook_id,
        playbook_version: playbook.version,
        category: playbook.definition.category,
        priority: definition.priority,
        surfaces,
        payload: { ...payload, why },
        requires_consent: definition.requires_consent,
        requires_dual_channel: definition.requires_dual_channel,
      },
      cooldown_key: playbook.playbook_id,
      cooldown_ms: (definition.cooldown_minutes ?? policy.cooldown_minutes) * MINUTE_MS,
    };
  });

  return { candidates, suppressed, in_quiet_hours: inQuietHours };
}

export function decisionOutcome(actions: Action[], suppressed: Suppressed[]): DecisionOutcome {
  if (actions.length > 0) return 'shown';
  if (suppressed.length > 0) return 'suppressed';
  return 'no_match';
}
