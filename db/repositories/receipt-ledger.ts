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
} from '../../lib/receipt-crypto';
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
export interface ChainHead {
  seq: number;
  lastHash: string | null;
}

/**
 * Creates the tenant's chain head on first use and locks it in one statement (the no-op DO UPDATE takes the row lock),
 * so concurrent appends of one tenant queue here and form one unbroken chain. Placeholder `:tenantId`.
 */
export const LOCK_HEAD_SQL = `INSERT INTO receipt_chain_heads (tenant_id, seq) VALUES (:tenantId, 0)
       ON CONFLICT (tenant_id) DO UPDATE SET seq = receipt_chain_heads.seq
       RETURNING seq, last_hash`;

/** The head LOCK_HEAD_SQL returned. */
export function chainHeadOf(row: { seq: string | number; last_hash: string | null } | undefined): ChainHead {
  if (!row) throw new Error('receipt chain head missing');
  return { seq: Number(row.seq), lastHash: row.last_hash };
}

export function createReceiptLedger(sequelize: Sequelize, models: Models, opts: { configuredPrivateKeyPem?: string }) {
  let active: Promise<SigningKey> | undefined;

  /** LOCK_HEAD_SQL in the caller's transaction. */
  async function lockHead(tenantId: string, transaction: Transaction): Promise<ChainHead> {
    const [head] = await sequelize.query<{ seq: string; last_hash: string | null }>(LOCK_HEAD_SQL, { replacements: { tenantId }, transaction, type: QueryTypes.SELECT });
    return chainHeadOf(head);
  }

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
    // One process at a time looks for the key and creates it when there is none, so replicas starting together on a
    // new database all sign with the same key. (Converging on the oldest after inserting was not enough: a key's
    // created_at is its statement's start, so a key committed later could still come out oldest, after another
    // replica had already settled on its own.)
    return sequelize.transaction(async (transaction) => {
      await sequelize.query(`SELECT pg_advisory_xact_lock(hashtext('mmm_signing_key'))`, { transaction });
      const existing = await sequelize.query<{ private_key_pem: string }>(
        `SELECT private_key_pem FROM signing_keys WHERE status = 'active' AND private_key_pem IS NOT NULL ORDER BY created_at, key_id LIMIT 1`,
        { type: QueryTypes.SELECT, transaction },
      );
      if (existing[0]) return signingKeyFromPem(existing[0].private_key_pem);
      const { key, privatePem } = generateSigningKey();
      await models.SigningKey.create({ key_id: key.keyId, public_key: key.publicKeyB64url, private_key_pem: privatePem, status: 'active' }, { transaction });
      return key;
    });
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

    /**
     * The signed receipt that goes after `head` (its hash is the next head's), and the one statement that stores it,
     * moves the chain head and, with `alsoInsert`, writes the caller's own row (the decision) too. For callers that
     * send the statement themselves, several in one round trip (decision-repository.ts); `head` must be locked by them.
     */
    async nextReceipt(entry: AppendReceipt, head: ChainHead, alsoInsert?: { sql: string; replacements: Record<string, unknown> }) {
      const key = await signingKey();
      const seq = head.seq + 1;
      const unsigned: UnsignedReceipt = {
        receipt_id: `rcpt_${crypto.randomUUID()}`,
        tenant_id: entry.tenantId,
        decision_id: entry.decisionId,
        kind: entry.kind,
        payload: entry.payload,
        payload_sha256: sha256Hex(canonicalJson(entry.payload)),
        prev_receipt_hash: head.lastHash,
        created_at: entry.createdAt.toISOString(),
        key_id: key.keyId,
      };
      const receipt = signReceipt(unsigned, key);
      const hash = receiptHash(receipt);
      return {
        receipt,
        next: { seq, lastHash: hash } satisfies ChainHead,
        sql: `WITH receipt AS (
           INSERT INTO receipts (receipt_id, tenant_id, decision_id, kind, seq, receipt_hash, body, created_at)
           VALUES (:receiptId, :tenantId, :decisionId, :kind, :seq, :hash, :body, :createdAt)
         ), head AS (
           UPDATE receipt_chain_heads SET seq = :seq, last_hash = :hash, last_receipt_id = :receiptId WHERE tenant_id = :tenantId
         )
         ${alsoInsert ? alsoInsert.sql : 'SELECT 1'}`,
        replacements: {
          ...(alsoInsert?.replacements ?? {}),
          receiptId: receipt.receipt_id, tenantId: entry.tenantId, decisionId: entry.decisionId, kind: entry.kind,
          seq, hash, body: JSON.stringify(receipt), createdAt: entry.createdAt.toISOString(),
        },
      };
    },

    /**
     * Appends a receipt inside the caller's transaction. `lockedHead` comes from lockHead() in the same transaction;
     * `alsoInsert` lets the caller write its own row in the same statement: one lock round trip, one write round trip.
     */
    async append(
      entry: AppendReceipt,
      transaction: Transaction,
      lockedHead?: ChainHead,
      alsoInsert?: { sql: string; replacements: Record<string, unknown> },
    ): Promise<Receipt> {
      const head = lockedHead ?? (await lockHead(entry.tenantId, transaction));
      const { receipt, sql, replacements } = await this.nextReceipt(entry, head, alsoInsert);
      await sequelize.query(sql, { replacements, transaction });
      return receipt;
    },

    lockHead,

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
