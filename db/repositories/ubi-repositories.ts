import type { Sequelize } from 'sequelize';
import type { ReceiptLedger } from './receipt-ledger';
import { createUbiBaselineRepository } from './ubi-baseline-repository';
import { createUbiConfigRepository } from './ubi-config-repository';
import { createUbiEventRepository } from './ubi-event-repository';
import { createUbiFeatureRepository } from './ubi-feature-repository';
import { createUbiSignalRepository } from './ubi-signal-repository';

/** Every UBI repository over one Sequelize instance (events, features, baselines, signals, configuration). */
export function createUbiRepositories(sequelize: Sequelize, ledger: ReceiptLedger) {
  return {
    events: createUbiEventRepository(sequelize),
    features: createUbiFeatureRepository(sequelize),
    baselines: createUbiBaselineRepository(sequelize, ledger),
    signals: createUbiSignalRepository(sequelize),
    configs: createUbiConfigRepository(sequelize),
  };
}
export type UbiRepositories = ReturnType<typeof createUbiRepositories>;
