import type { Sequelize } from 'sequelize';
import type { AuditLog } from './audit-log';
import type { ReceiptLedger } from './receipt-ledger';
import { createUbiBaselineRepository } from './ubi-baseline-repository';
import { createUbiConfigRepository } from './ubi-config-repository';
import { createUbiEventRepository } from './ubi-event-repository';
import { createUbiFeatureRepository } from './ubi-feature-repository';
import { createUbiSignalRepository } from './ubi-signal-repository';

/** Every UBI repository over one Sequelize instance (events, features, baselines, signals, configuration). */
export function createUbiRepositories(sequelize: Sequelize, ledger: ReceiptLedger, audit: AuditLog) {
  return {
    events: createUbiEventRepository(sequelize),
    features: createUbiFeatureRepository(sequelize),
    baselines: createUbiBaselineRepository(sequelize, ledger, audit),
    signals: createUbiSignalRepository(sequelize),
    configs: createUbiConfigRepository(sequelize, audit),
  };
}
export type UbiRepositories = ReturnType<typeof createUbiRepositories>;
