import type { PlaybookInput } from '../domain/model/playbook';
import { DEFAULT_TENANT_POLICY } from '../domain/model/policy';
import type { Repositories } from './database';

/**
 * A demo tenant with three realistic mirror playbooks, so `npm start` plus the README's curl shows a real decision.
 * Seeding is idempotent: it only runs for a tenant that has no playbooks yet.
 */
export const DEMO_PLAYBOOKS: PlaybookInput[] = [
  {
    name: 'Failing builds on a branch',
    category: 'build_health',
    description: 'Reflects repeated build failures on the branch being worked on.',
    triggers: [{ source: 'ubi', kind: 'build_failures', min_severity: 'low', surfaces: ['ide', 'ci', 'pr'] }],
    conditions: [{ field: 'signal.payload.failed_builds', op: 'gte', value: 3 }],
    actions: [
      {
        type: 'mirror',
        title: '{{signal.payload.failed_builds}} builds on {{branch}} failed today',
        body: 'The last {{signal.payload.failed_builds}} builds of {{repo_id}} on {{branch}} ended in failure; the most recent failing step was {{signal.payload.failing_step}}.',
        surfaces: ['ide', 'ci', 'pr'],
        priority: 70,
        cooldown_minutes: 60,
        requires_consent: false,
        requires_dual_channel: false,
      },
    ],
  },
  {
    name: 'Pull request open for a while',
    category: 'review_flow',
    description: 'Reflects how long a pull request has been waiting for review.',
    triggers: [{ source: 'ubi', kind: 'pr_waiting', min_severity: 'info', surfaces: ['pr', 'ide'] }],
    conditions: [{ field: 'signal.payload.hours_open', op: 'gte', value: 48 }],
    actions: [
      {
        type: 'mirror',
        title: 'This pull request has been open for {{signal.payload.hours_open}} hours',
        body: 'It has {{signal.payload.reviews}} reviews so far; pull requests in {{repo_id}} are typically merged within {{signal.payload.typical_hours}} hours.',
        surfaces: ['pr', 'ide'],
        priority: 50,
        cooldown_minutes: 240,
        requires_consent: false,
        requires_dual_channel: false,
      },
    ],
  },
  {
    name: 'Flaky tests',
    category: 'test_health',
    description: 'Reflects tests that passed and failed on the same commit.',
    triggers: [
      { source: 'test', kind: 'flaky_tests', min_severity: 'low' },
      { kind: 'request', surfaces: ['ci'] },
    ],
    conditions: [],
    actions: [
      {
        type: 'mirror',
        title: 'Flaky tests seen in {{repo_id}}',
        body: '{{signal.payload.flaky_count}} tests both passed and failed on the same commit in the last 7 days.',
        surfaces: ['ci', 'pr', 'ide'],
        priority: 40,
        cooldown_minutes: 120,
        requires_consent: false,
        requires_dual_channel: false,
      },
    ],
  },
];

export async function seedDemoTenant(repos: Repositories, tenantId: string): Promise<number> {
  const existing = await repos.playbooks.list(tenantId);
  if (existing.length > 0) return 0;
  for (const input of DEMO_PLAYBOOKS) {
    const created = await repos.playbooks.create(tenantId, input, 'seed');
    await repos.playbooks.publish(tenantId, created.playbook_id, 'seed');
  }
  await repos.policies.put(tenantId, DEFAULT_TENANT_POLICY, 'seed');
  return DEMO_PLAYBOOKS.length;
}
