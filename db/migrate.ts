import type { Sequelize } from 'sequelize';
import * as m001 from './migrations/001-initial';
import * as m002 from './migrations/002-unique-outcomes';
import * as m003 from './migrations/003-ubi';
import * as m004 from './migrations/004-actions';
import * as m005 from './migrations/005-external-services';
import * as m006 from './migrations/006-alert-deliveries';
import * as m007 from './migrations/007-append-only-ledgers';
import * as m008 from './migrations/008-decision-updates';
import * as m009 from './migrations/009-decision-trace-id';
import * as m010 from './migrations/010-audit-chain-and-metrics';
import * as m011 from './migrations/011-experiments';
import * as m012 from './migrations/012-ubi-dirty-claims';

const MIGRATIONS: Array<{ name: string; up: string }> = [m001, m002, m003, m004, m005, m006, m007, m008, m009, m010, m011, m012];

/** Arbitrary constant: the advisory lock that makes concurrent replicas migrate one at a time. */
const MIGRATION_LOCK = 727_001;

/** Applies pending migrations in order, each in its own transaction, under an advisory lock. */
export async function migrate(sequelize: Sequelize): Promise<string[]> {
  const applied: string[] = [];
  await sequelize.transaction(async (tx) => {
    await sequelize.query('SELECT pg_advisory_xact_lock(:lock)', { replacements: { lock: MIGRATION_LOCK }, transaction: tx });
    await sequelize.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
      { transaction: tx },
    );
    const [rows] = await sequelize.query('SELECT name FROM schema_migrations', { transaction: tx });
    const done = new Set((rows as Array<{ name: string }>).map((r) => r.name));
    for (const mig of MIGRATIONS) {
      if (done.has(mig.name)) continue;
      await sequelize.query(mig.up, { transaction: tx });
      await sequelize.query('INSERT INTO schema_migrations (name) VALUES (:name)', { replacements: { name: mig.name }, transaction: tx });
      applied.push(mig.name);
    }
  });
  return applied;
}
