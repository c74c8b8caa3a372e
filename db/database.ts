import type { Sequelize } from 'sequelize';
import { defineModels } from './models';
import { createActionApprovalRepository } from './repositories/action-approval-repository';
import { createActionEnrichmentRepository } from './repositories/action-enrichment-repository';
import { createAuditLog } from './repositories/audit-log';
import { createDecisionContextReader } from './repositories/decision-context-reader';
import { createDecisionRepository } from './repositories/decision-repository';
import { createExperimentRepository } from './repositories/experiment-repository';
import { createPlaybookRepository } from './repositories/playbook-repository';
import { createPolicyRepository } from './repositories/policy-repository';
import { createPreferencesRepository } from './repositories/preferences-repository';
import { createReceiptLedger } from './repositories/receipt-ledger';
import { createReceiptOutbox } from './repositories/receipt-outbox';
import { createSignalReader } from './repositories/signal-reader';
import { createTenantMetricsRepository } from './repositories/tenant-metrics-repository';
import { createUbiRepositories } from './repositories/ubi-repositories';
import { createOutboxRepository } from './repositories/outbox-repository';
import { createRetentionRepository } from './repositories/retention-repository';

/** Builds every repository over one Sequelize instance. */
export function createRepositories(sequelize: Sequelize, opts: { receiptSigningKeyPem?: string } = {}) {
  const models = defineModels(sequelize);
  const audit = createAuditLog(sequelize);
  const ledger = createReceiptLedger(sequelize, models, { configuredPrivateKeyPem: opts.receiptSigningKeyPem });
  return {
    sequelize,
    models,
    audit,
    ledger,
    policies: createPolicyRepository(sequelize, models, audit),
    preferences: createPreferencesRepository(sequelize, models, audit),
    playbooks: createPlaybookRepository(sequelize, models, audit),
    experiments: createExperimentRepository(sequelize, audit),
    decisions: createDecisionRepository(sequelize, models, ledger),
    decisionInputs: createDecisionContextReader(sequelize),
    signals: createSignalReader(sequelize),
    tenantMetrics: createTenantMetricsRepository(sequelize),
    receiptOutbox: createReceiptOutbox(sequelize),
    ubi: createUbiRepositories(sequelize, ledger, audit),
    actionApprovals: createActionApprovalRepository(sequelize, ledger),
    actionEnrichment: createActionEnrichmentRepository(sequelize),
    outbox: createOutboxRepository(sequelize),
    retention: createRetentionRepository(sequelize),
  };
}
export type Repositories = ReturnType<typeof createRepositories>;
