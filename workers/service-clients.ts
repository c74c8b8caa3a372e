import { createServiceClient, type ServiceClient, type ServiceName } from '../lib/clients/service-client';
import type { AppConfig } from '../config/config';
import type { Metrics } from '../observability/metrics';

/** Per-call timeouts from CONTRACT.md ("Services we call") and the requirements (FR-2, FR-5, FR-11). */
export const SERVICE_TIMEOUT_MS: Record<ServiceName, number> = {
  iam: 2_000,
  policy: 500,
  eris: 2_000,
  llm_gateway: 3_000,
  data_governance: 500,
  ubi: 1_000,
  edge_agent: 5_000,
  ci: 5_000,
  alerting: 2_000,
};

const BASE_URL_VARIABLE = {
  iam: 'IAM_BASE_URL',
  policy: 'POLICY_BASE_URL',
  eris: 'ERIS_BASE_URL',
  llm_gateway: 'LLM_GATEWAY_BASE_URL',
  data_governance: 'DATA_GOVERNANCE_BASE_URL',
  ubi: 'UBI_BASE_URL',
  edge_agent: 'EDGE_AGENT_BASE_URL',
  ci: 'CI_BASE_URL',
  alerting: 'ALERTING_BASE_URL',
} as const satisfies Partial<Record<ServiceName, keyof AppConfig>>;

export type ServiceClients = Partial<Record<ServiceName, ServiceClient>>;

/**
 * Which services each tier calls, so each tier builds (and its readiness lists) the breakers of those only; a breaker
 * in a process that never calls its service would read `closed` for ever.
 * - The API calls IAM alone: token verification and authorisation (api/auth.ts, when IAM_BASE_URL is set). Everything
 *   else it does is PostgreSQL, Redis and Temporal.
 * - The worker's activities call the rest, and IAM too: context assembly reads the actor's roles from it
 *   (external-services.ts `context`), mentor enrichment the LLM gateway, delegation the edge agent and CI
 *   (action-deps.ts), alert delivery the alerting service, receipt emission ERIS, the privacy guard data governance.
 */
export const SERVICES_CALLED_BY = {
  api: ['iam'],
  worker: ['iam', 'policy', 'ubi', 'data_governance', 'llm_gateway', 'edge_agent', 'ci', 'alerting', 'eris'],
} as const satisfies Record<'api' | 'worker', readonly ServiceName[]>;

/** The services a process running these tiers calls (both tiers in one process: all of them). */
export function servicesCalledBy(tiers: { api: boolean; worker: boolean }): Set<ServiceName> {
  return new Set<ServiceName>([...(tiers.api ? SERVICES_CALLED_BY.api : []), ...(tiers.worker ? SERVICES_CALLED_BY.worker : [])]);
}

/**
 * One client per configured service that this process calls (`only`, by default every one), built once in the
 * composition root, each with its own breaker. A service that is not configured has no client: its embedded default
 * serves (ARCHITECTURE.md).
 */
export function createServiceClients(config: AppConfig, metrics: Metrics, only?: Set<ServiceName>): ServiceClients {
  const clients: ServiceClients = {};
  for (const [name, variable] of Object.entries(BASE_URL_VARIABLE) as Array<[ServiceName, keyof AppConfig]>) {
    const baseUrl = config[variable] as string | undefined;
    if (!baseUrl || (only && !only.has(name))) continue;
    clients[name] = createServiceClient({
      name,
      baseUrl,
      timeoutMs: SERVICE_TIMEOUT_MS[name],
      serviceToken: config.SERVICE_TOKEN,
      metrics,
      breaker: {
        failures: config.CIRCUIT_BREAKER_FAILURES,
        halfOpenAfterMs: config.CIRCUIT_BREAKER_HALF_OPEN_MS,
        successesToClose: config.CIRCUIT_BREAKER_SUCCESSES,
      },
    });
  }
  return clients;
}
