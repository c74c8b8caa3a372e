import crypto from 'node:crypto';
import { Op, type Sequelize, type Transaction } from 'sequelize';
import { ConflictError, ForbiddenError, NotFoundError } from '../../domain/errors';
import {
  playbookInputSchema,
  type Playbook,
  type PlaybookInput,
  type PlaybookStatus,
} from '../../domain/model/playbook';
import type { Models, PlaybookRow } from '../models';
import type { AuditLog } from './audit-log';

function toPlaybook(row: PlaybookRow, version: number, definition: unknown, createdAt: Date): Playbook {
  const status: PlaybookStatus =
    row.status === 'archived' ? 'archived' : row.published_version === version ? 'published' : 'draft';
  return {
    ...playbookInputSchema.parse(definition),
    playbook_id: row.playbook_id,
    tenant_id: row.tenant_id,
    version,
    status,
    published_version: row.published_version,
    created_at: row.created_at.toISOString(),
    updated_at: createdAt.toISOString(),
  };
}

/**
 * Versioned playbooks (FR-3): every PUT adds a version; publish points decisions at the latest version; DELETE
 * archives. Versions are never rewritten, so a receipt's playbook_version always names the text that was used.
 */
export function createPlaybookRepository(sequelize: Sequelize, models: Models, audit: AuditLog) {
  /** Reads a playbook row, telling "another tenant's" (403) from "not there" (404) as the contract asks. */
  async function loadRow(tenantId: string, playbookId: string, transaction?: Transaction): Promise<PlaybookRow> {
    const row = await models.Playbook.findByPk(playbookId, { transaction, lock: transaction ? transaction.LOCK.UPDATE : undefined });
    if (!row) throw new NotFoundError('playbook', playbookId);
    const plain = row.get({ plain: true });
    if (plain.tenant_id !== tenantId) throw new ForbiddenError('forbidden_tenant', 'this playbook belongs to another tenant');
    return plain;
  }

  async function loadVersion(row: PlaybookRow, version: number, transaction?: Transaction): Promise<Playbook> {
    const v = await models.PlaybookVersion.findOne({ where: { playbook_id: row.playbook_id, version }, transaction });
    if (!v) throw new NotFoundError('playbook_version', `${row.playbook_id}@${version}`);
    const plain = v.get({ plain: true });
    return toPlaybook(row, version, plain.definition, plain.created_at);
  }

  async function mutate(
    tenantId: string,
    playbookId: string,
    actorSub: string,
    action: string,
    change: (row: PlaybookRow, current: Playbook, tx: Transaction) => Promise<Playbook>,
  ): Promise<Playbook> {
    return sequelize.transaction(async (tx) => {
      const row = await loadRow(tenantId, playbookId, tx);
      const before = await loadVersion(row, row.latest_version, tx);
      const after = await change(row, before, tx);
      await audit.record({ tenantId, actorSub, action, resourceType: 'playbook', resourceId: playbookId, before, after }, tx);
      return after;
    });
  }

  return {
    async create(tenantId: string, input: PlaybookInput, actorSub: string): Promise<Playbook> {
      const playbookId = `pb_${crypto.randomUUID()}`;
      return sequelize.transaction(async (tx) => {
        const now = new Date();
        const row: PlaybookRow = {
          playbook_id: playbookId, tenant_id: tenantId, name: input.name, category: input.category, status: 'draft',
          latest_version: 1, published_version: null, created_at: now, updated_at: now,
        };
        await models.Playbook.create(row, { transaction: tx });
        await models.PlaybookVersion.create(
          { playbook_id: playbookId, version: 1, definition: input, created_by: actorSub, created_at: now },
          { transaction: tx },
        );
        const after = toPlaybook(row, 1, input, now);
        await audit.record({ tenantId, actorSub, action: 'playbook.create', resourceType: 'playbook', resourceId: playbookId, before: null, after }, tx);
        return after;
      });
    },

    async get(tenantId: string, playbookId: string, version?: number): Promise<Playbook> {
      const row = await loadRow(tenantId, playbookId);
      return loadVersion(row, version ?? row.latest_version);
    },

    /** The category of the published version (what actors opt out of), or null when none is published. */
    async list(tenantId: string, status?: PlaybookStatus): Promise<Playbook[]> {
      const rows = await models.Playbook.findAll({
        where: { tenant_id: tenantId, ...(status === 'archived' ? { status: 'archived' } : status ? { status: { [Op.ne]: 'archived' } } : {}) },
        order: [['created_at', 'ASC']],
      });
      const out: Playbook[] = [];
      for (const r of rows) {
        const p = await loadVersion(r.get({ plain: true }), r.get('latest_version') as number);
        if (!status || p.status === status) out.push(p);
      }
      return out;
    },

    async update(tenantId: string, playbookId: string, input: PlaybookInput, actorSub: string): Promise<Playbook> {
      return mutate(tenantId, playbookId, actorSub, 'playbook.update', async (row, _current, tx) => {
        if (row.status === 'archived') throw new ConflictError('playbook_archived', 'an archived playbook cannot be changed');
        const version = row.latest_version + 1;
        const now = new Date();
        await models.PlaybookVersion.create({ playbook_id: playbookId, version, definition: input, created_by: actorSub, created_at: now }, { transaction: tx });
        await models.Playbook.update(
          { latest_version: version, name: input.name, category: input.category, updated_at: now },
          { where: { playbook_id: playbookId }, transaction: tx },
        );
        return toPlaybook({ ...row, latest_version: version }, version, input, now);
      });
    },

    async publish(tenantId: string, playbookId: string, actorSub: string): Promise<Playbook> {
      return mutate(tenantId, playbookId, actorSub, 'playbook.publish', async (row, current, tx) => {
        if (row.status === 'archived') throw new ConflictError('playbook_archived', 'an archived playbook cannot be published');
        if (row.published_version === row.latest_version)
          throw new ConflictError('already_published', `version ${row.latest_version} is already published`, { version: row.latest_version });
        await models.Playbook.update(
          { status: 'published', published_version: row.latest_version, updated_at: new Date() },
          { where: { playbook_id: playbookId }, transaction: tx },
        );
        return { ...current, status: 'published', published_version: row.latest_version };
      });
    },

    async archive(tenantId: string, playbookId: string, actorSub: string): Promise<Playbook> {
      return mutate(tenantId, playbookId, actorSub, 'playbook.archive', async (row, current, tx) => {
        if (row.status === 'archived') throw new ConflictError('playbook_archived', 'this playbook is already archived');
        await models.Playbook.update({ status: 'archived', updated_at: new Date() }, { where: { playbook_id: playbookId }, transaction: tx });
        return { ...current, status: 'archived' };
      });
    },
  };
}
export type PlaybookRepository = ReturnType<typeof createPlaybookRepository>;
