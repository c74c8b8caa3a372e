import type { ActivityDeps } from '../activities';
import { createAlertingClient, type AlertingClient } from '../activities/clients/alerting-client';
import { createDataGovernanceClient } from '../activities/clients/data-governance-client';
import { createErisClient } from '../activities/clients/eris-client';
import { createIamClient } from '../lib/clients/iam-client';
import { createPolicyClient } from '../activities/clients/policy-client';
import { createUbiClient } from '../activities/clients/ubi-client';
import { createPrivacyGuard } from '../activities/governance/privacy-guard';
import { createPolicyResolver } from '../activities/policy/policy-resolver';
import { createIamVerifier, type TokenVerifier } from '../api/auth';
import { serviceCheck, type DependencyCheck } from '../api/readiness';
import type { AppConfig } from '../config/config';
import type { ReceiptOutbox } from '../db/repositories/receipt-outbox';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { ServiceClients } from './service-clients';

export interface ExternalServices {
  /** What the activities get: context services, the privacy guard, ERIS emission. */
  activities: NonNullable<ActivityDeps['external']>;
  /** The IAM verifier when IAM_BASE_URL is set (else the API keeps local HS256 verification). */
  iamVerifier?: TokenVerifier;
  alerting?: AlertingClient;
  /** One readiness check per configured service (state and breaker). */
  checks: DependencyCheck[];
}

/** Typed clients over the shared service clients, and what each feeds (composition root helper, ADR 0009). */
export function createExternalServices(
  config: AppConfig,
  clients: ServiceClients,
  deps: { outbox: ReceiptOutbox; metrics: Metrics; logger: Logger },
): ExternalServices {
  const iam = clients.iam && createIamClient(clients.iam);
  const dg = clients.data_governance && createDataGovernanceClient(clients.data_governance);
  const privacy = createPrivacyGuard({ client: dg, ttlMs: config.CONTEXT_CACHE_TTL_MS });
  return {
    activities: {
      context: {
        policy: clients.policy && createPolicyResolver({
          client: createPolicyClient(clients.policy),
          ttlMs: config.POLICY_CACHE_TTL_MS,
          staleMaxMs: config.POLICY_STALE_MAX_MS,
        }),
        iam,
        ubi: clients.ubi && createUbiClient(clients.ubi),
        privacy,
        cacheTtlMs: config.CONTEXT_CACHE_TTL_MS,
      },
      privacy,
      eris: clients.eris && {
        eris: createErisClient(clients.eris),
        outbox: deps.outbox,
        pollMs: config.RECEIPT_EMISSION_POLL_MS,
        maxBackoffMs: config.RECEIPT_EMISSION_MAX_BACKOFF_MS,
        metrics: deps.metrics,
        logger: deps.logger,
      },
    },
    iamVerifier: iam && createIamVerifier({ iam, cacheTtlMs: config.IAM_CACHE_TTL_MS }),
    alerting: clients.alerting && createAlertingClient(clients.alerting),
    checks: Object.values(clients).map((c) => serviceCheck(c)),
  };
}
