import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import type { AuditLog } from './audit-log';
import { defaultUbiConfig, ubiConfigInputSchema, type UbiConfig, type UbiConfigInput } from '../../domain/model/ubi-config';

interface ConfigRow {
  tenant_id: string;
  version: number;
  config: unknown;
  updated_by: string | null;
  updated_at: Date;
}

function toConfig(row: ConfigRow): UbiConfig {
  // Stored JSON went through the schema when written; parsing again fills defaults added since.
  return { ...ubiConfigInputSchema.parse(row.config), tenant_id: row.tenant_id, version: row.version, updated_at: new Date(row.updated_at).toISOString(), updated_by: row.updated_by };
}

/** Versioned tenant UBI config: every PUT is a new row, so each signal's config_version names what produced it. */
export function createUbiConfigRepository(sequelize: Sequelize, audit: AuditLog) {
  async function current(tenantId: string, transaction?: Transaction): Promise<UbiConfig> {
    const rows = await sequelize.query<ConfigRow>(
      `SELECT * FROM ubi_tenant_config WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1`,
      { bind: [tenantId], type: QueryTypes.SELECT, transaction },
    );
    return rows[0] ? toConfig(rows[0]) : defaultUbiConfig(tenantId);
  }
  return {
    get: (tenantId: string): Promise<UbiConfig> => current(tenantId),

    /** The current config of each tenant in `tenantIds` (defaults for tenants that never set one). */
    async getMany(tenantIds: string[]): Promise<Map<string, UbiConfig>> {
      const rows = await sequelize.query<ConfigRow>(
        `SELECT DISTINCT ON (tenant_id) * FROM ubi_tenant_config WHERE tenant_id = ANY($1::text[]) ORDER BY tenant_id, version DESC`,
        { bind: [tenantIds], type: QueryTypes.SELECT },
      );
      const out = new Map(tenantIds.map((t) => [t, defaultUbiConfig(t)]));
      for (const r of rows) out.set(r.tenant_id, toConfig(r));
      return out;
    },

    /**
     * Appends the next version with its audit entry in one transaction; concurrent PUTs cannot take the same number
     * (primary key), the loser retries.
     */
    async put(tenantId: string, input: UbiConfigInput, updatedBy: string): Promise<UbiConfig> {
      for (let attempt = 0; ; attempt++) {
        try {
          return await sequelize.transaction(async (transaction) => {
            const before = await current(tenantId, transaction);
            const rows = await sequelize.query<ConfigRow>(
              `INSERT INTO ubi_tenant_config (tenant_id, version, config, updated_by)
               SELECT $1, COALESCE(max(version), 0) + 1, $2::jsonb, $3 FROM ubi_tenant_config WHERE tenant_id = $1
               RETURNING *`,
              { bind: [tenantId, JSON.stringify(input), updatedBy], type: QueryTypes.SELECT, transaction },
            );
            const after = toConfig(rows[0]);
            await audit.record(
              { tenantId, actorSub: updatedBy, action: 'ubi_config.put', resourceType: 'ubi_config', resourceId: tenantId, before: before.version === 0 ? null : before, after },
              transaction,
            );
            return after;
          });
        } catch (err) {
          if (attempt >= 2 || (err as { name?: string }).name !== 'SequelizeUniqueConstraintError') throw err;
        }
      }
    },
  };
}
export type UbiConfigRepository = ReturnType<typeof createUbiConfigRepository>;
