import crypto from 'node:crypto';
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import {
  canonicalJson,
  generateSigningKey,
  receiptHash,
  sha256Hex,
  signReceipt,
  signingKeyFromPem,
  type SigningKey,
} from '../../activities/receipts/receipt-crypto';
import { ForbiddenError, NotFoundError } from '../../domain/errors';
import type { Receipt, UnsignedReceipt } from '../../domain/model/receipt';
import type { Models } from '../models';

export interface AppendReceipt {
  tenantId: string;
  decisionId: string;
  kind: string;
  payload: Record<string, unknown>;
  createdAt: Date;
}

/**
 * The append-only, hash-chained, Ed25519-signed receipt ledger (FR-12, NFR-4). Each tenant has its own chain; the
 * chain head row is locked for the few microseconds an append takes, so concurrent decisions of one tenant form one
 * unbroken chain while tenants never wait on each other.
 */
export function createReceiptLedger(sequelize: Sequelize, models: Models, opts: { configuredPrivateKeyPem?: string }) {
  let active: Promise<SigningKey> | undefined;

  async function loadOrCreateKey(): Promise<SigningKey> {
    if (opts.configuredPrivateKeyPem) {
      const key = signingKeyFromPem(opts.configuredPrivateKeyPem);
      // Only the public half is stored: the configured private key stays in the secret store.
      await models.SigningKey.findOrCreate({
        where: { key_id: key.keyId },
        defaults: { key_id: key.keyId, public_key: key.publicKeyB64url, private_key_pem: null, status: 'active' },
      });
      return key;
    }
    const existing = await sequelize.query<{ private_key_pem: string }>(
      `SELECT private_key_pem FROM signing_keys WHERE status = 'active' AND private_key_pem IS NOT NULL ORDER BY created_at, key_id LIMIT 1`,
      { type: QueryTypes.SELECT },
    );
    if (existing[0]) return signingKeyFromPem(existing[0].private_key_pem);
    const { key, privatePem } = generateSigningKey();
    await models.SigningKey.create({ key_id: key.keyId, public_key: key.publicKeyB64url, private_key_pem: privatePem, status: 'active' });
    // Two replicas may have generated a key at once: all of them converge on the oldest.
    return loadOrCreateKey();
  }

  function signingKey(): Promise<SigningKey> {
    active ??= loadOrCreateKey().catch((err) => {
      active = undefined;
      throw err;
    });
    return active;
  }

  return {
    signingKey,

    async append(entry: AppendReceipt, transaction: Transaction): Promise<Receipt> {
      const key = await signingKey();
      await sequelize.query('INSERT INTO receipt_chain_heads (tenant_id, seq) VALUES (:tenantId, 0) ON CONFLICT DO NOTHING', {
        replacements: { tenantId: entry.tenantId },
        transaction,
      });
      const [head] = await sequelize.query<{ seq: string; last_hash: string | null }>(
        'SELECT seq, last_hash FROM receipt_chain_heads WHERE tenant_id = :tenantId FOR UPDATE',
        { replacements: { tenantId: entry.tenantId }, transaction, type: QueryTypes.SELECT },
      );
      if (!head) throw new Error('receipt chain head missing');
      const seq = Number(head.seq) + 1;
      const unsigned: UnsignedReceipt = {
        receipt_id: `rcpt_${crypto.randomUUID()}`,
        tenant_id: entry.tenantId,
        decision_id: entry.decisionId,
        kind: entry.kind,
        payload: entry.payload,
        payload_sha256: sha256Hex(canonicalJson(entry.payload)),
        prev_receipt_hash: head.last_hash,
        created_at: entry.createdAt.toISOString(),
        key_id: key.keyId,
      };
      const receipt = signReceipt(unsigned, key);
      const hash = receiptHash(receipt);
      await models.Receipt.create(
        {
          receipt_id: receipt.receipt_id, tenant_id: entry.tenantId, decision_id: entry.decisionId, kind: entry.kind,
          seq, receipt_hash: hash, body: receipt, created_at: entry.createdAt,
        },
        { transaction },
      );
      await sequelize.query(
        'UPDATE receipt_chain_heads SET seq = :seq, last_hash = :hash, last_receipt_id = :id WHERE tenant_id = :tenantId',
        { replacements: { seq, hash, id: receipt.receipt_id, tenantId: entry.tenantId }, transaction },
      );
      return receipt;
    },

    async get(tenantId: string, receiptId: string): Promise<Receipt> {
      const row = await models.Receipt.findByPk(receiptId);
      if (!row) throw new NotFoundError('receipt', receiptId);
      if (row.get('tenant_id') !== tenantId) throw new ForbiddenError('forbidden_tenant', 'this receipt belongs to another tenant');
      return row.get('body') as Receipt;
    },

    /** A tenant's chain in order, for audits and the chain-verification test. */
    async chain(tenantId: string, limit = 1000): Promise<Receipt[]> {
      const rows = await models.Receipt.findAll({ where: { tenant_id: tenantId }, order: [['seq', 'ASC']], limit });
      return rows.map((r) => r.get('body') as Receipt);
    },

    async publicKeys(): Promise<Array<{ key_id: string; algorithm: 'Ed25519'; public_key: string; status: string }>> {
      await signingKey();
      const rows = await models.SigningKey.findAll({ order: [['created_at', 'ASC']] });
      return rows.map((r) => ({
        key_id: r.get('key_id') as string,
        algorithm: 'Ed25519' as const,
        public_key: r.get('public_key') as string,
        status: r.get('status') as string,
      }));
    },
  };
}
export type ReceiptLedger = ReturnType<typeof createReceiptLedger>;
