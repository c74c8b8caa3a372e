/**
 * Idempotent decides (one decision and one receipt per Idempotency-Key) and the receipt ledger: Ed25519 signatures
 * anyone can verify offline with the published key, and a per-tenant hash chain.
 */
import crypto from 'node:crypto';
import canonicalize from 'canonicalize';
import { verifyReceipt } from '../../lib/receipt-crypto';
import type { Receipt } from '../../domain/model/receipt';
import { uniqueId, useTestApp } from '../support/harness';
import { decide, decideBody, expectEnvelope, fieldsOf, newTenant, publishPlaybook, requestPlaybook, type TenantFixture } from './fixtures';

jest.setTimeout(60000);

const app = useTestApp();

async function receiptsOf(tenant: string): Promise<Receipt[]> {
  return app.runtime.repos.ledger.chain(tenant);
}

async function decisionRows(tenant: string): Promise<number> {
  const [rows] = await app.runtime.repos.sequelize.query('SELECT count(*)::int AS n FROM decisions WHERE tenant_id = :tenant', { replacements: { tenant } });
  return (rows as Array<{ n: number }>)[0].n;
}

describe('Idempotency-Key', () => {
  it('when the same request is sent twice with one key, then both answers are the same decision, the second marked as replayed, with one receipt', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, requestPlaybook());
    const key = uniqueId('idem');

    const first = await decide(app, fx.service, decideBody(fx.tenant), { 'Idempotency-Key': key });
    const second = await decide(app, fx.service, decideBody(fx.tenant), { 'Idempotency-Key': key });

    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBe('false');
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body.decision_id).toBe(first.body.decision_id);
    expect(second.body).toEqual(first.body);
    const receipts = await receiptsOf(fx.tenant);
    expect(receipts.map((r) => r.decision_id)).toEqual([first.body.decision_id]);
    expect(await decisionRows(fx.tenant)).toBe(1);
  });

  it('when a shown decision is replayed under a limit of one nudge, then the replay carries the same action instead of being decided again', async () => {
    const fx = newTenant(app);
    await app.request('PUT', `/v1/mmm/tenants/${fx.tenant}/policy`, { token: fx.admin, body: { max_nudges_per_window: 1 } });
    await publishPlaybook(app, fx.admin, requestPlaybook({ cooldown_minutes: 0 }));
    const key = uniqueId('idem');

    const first = await decide(app, fx.service, decideBody(fx.tenant), { 'Idempotency-Key': key });
    const replay = await decide(app, fx.service, decideBody(fx.tenant), { 'Idempotency-Key': key });

    expect(first.body.outcome).toBe('shown');
    expect(replay.body.outcome).toBe('shown');
    expect(replay.body.actions[0].action_id).toBe(first.body.actions[0].action_id);
  });

  it('when 5 requests with one key arrive at once, then all get one decision_id and one receipt is written', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, requestPlaybook());
    const key = uniqueId('idem');

    const results = await Promise.all(Array.from({ length: 5 }, () => decide(app, fx.service, decideBody(fx.tenant), { 'Idempotency-Key': key })));

    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const ids = new Set(results.map((r) => r.body.decision_id));
    expect(ids.size).toBe(1);
    expect((await receiptsOf(fx.tenant)).map((r) => r.decision_id)).toEqual([...ids]);
    expect(await decisionRows(fx.tenant)).toBe(1);
  });

  it('when a key is reused with a different body, then it is 409 idempotency_key_reused naming the header', async () => {
    const fx = newTenant(app);
    const key = uniqueId('idem');
    const first = await decide(app, fx.service, decideBody(fx.tenant, { surface: 'ide' }), { 'Idempotency-Key': key });
    expect(first.status).toBe(200);

    const reused = await decide(app, fx.service, decideBody(fx.tenant, { surface: 'ci' }), { 'Idempotency-Key': key });

    expect(reused.status).toBe(409);
    expectEnvelope(reused.body, 'idempotency_key_reused');
    expect(fieldsOf(reused.body)).toEqual(['Idempotency-Key']);
    expect(await decisionRows(fx.tenant)).toBe(1);
  });

  it('when two different bodies race with one key, then one is decided and the other is 409, never the wrong decision', async () => {
    const fx = newTenant(app);
    const key = uniqueId('idem');

    const [ide, ci] = await Promise.all([
      decide(app, fx.service, decideBody(fx.tenant, { surface: 'ide' }), { 'Idempotency-Key': key }),
      decide(app, fx.service, decideBody(fx.tenant, { surface: 'ci' }), { 'Idempotency-Key': key }),
    ]);

    expect([ide.status, ci.status].sort()).toEqual([200, 409]);
    const winner = ide.status === 200 ? ide : ci;
    const expectedSurface = ide.status === 200 ? 'ide' : 'ci';
    expect(winner.body.context.surface).toBe(expectedSurface);
    expect(await decisionRows(fx.tenant)).toBe(1);
  });

  it('when two tenants use the same key, then each gets its own decision', async () => {
    const a = newTenant(app);
    const b = newTenant(app);
    const key = uniqueId('idem');

    const inA = await decide(app, a.service, decideBody(a.tenant), { 'Idempotency-Key': key });
    const inB = await decide(app, b.service, decideBody(b.tenant), { 'Idempotency-Key': key });

    expect(inA.status).toBe(200);
    expect(inB.status).toBe(200);
    expect(inB.body.decision_id).not.toBe(inA.body.decision_id);
    expect(inB.body.tenant_id).toBe(b.tenant);
    expect(inB.headers.get('idempotent-replayed')).toBe('false');
  });

  it.each([
    ['has a space', 'key with space'],
    ['is longer than 200 characters', 'k'.repeat(201)],
  ])('when the Idempotency-Key %s, then it is 400 naming the header', async (_label, key) => {
    const fx = newTenant(app);

    const res = await decide(app, fx.service, decideBody(fx.tenant), { 'Idempotency-Key': key });

    expect(res.status).toBe(400);
    expectEnvelope(res.body, 'validation_failed');
    expect(fieldsOf(res.body)).toEqual(['Idempotency-Key']);
  });
});

/** Independent of the product's code: RFC 8785 via the canonicalize package, the key as a JWK, node:crypto. */
function independentlyVerify(receipt: Receipt, publicKeyB64url: string): boolean {
  const { signature, ...unsigned } = receipt;
  const publicKey = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKeyB64url }, format: 'jwk' });
  const payloadSha = crypto.createHash('sha256').update(canonicalize(unsigned.payload) as string, 'utf8').digest('hex');
  if (payloadSha !== unsigned.payload_sha256) return false;
  return crypto.verify(null, Buffer.from(canonicalize(unsigned) as string, 'utf8'), publicKey, Buffer.from(signature, 'base64url'));
}

/** One character changed: the last hex digit moves to the next one. */
function flipLastHexDigit(s: string): string {
  const last = parseInt(s.slice(-1), 16);
  return s.slice(0, -1) + ((last + 1) % 16).toString(16);
}

function sha256OfCanonical(value: unknown): string {
  return crypto.createHash('sha256').update(canonicalize(value) as string, 'utf8').digest('hex');
}

async function publicKeyFor(keyId: string): Promise<string> {
  const res = await app.request('GET', '/v1/mmm/receipts/keys');
  expect(res.status).toBe(200);
  const key = res.body.keys.find((k: { key_id: string }) => k.key_id === keyId);
  expect(key).toBeDefined();
  return key.public_key;
}

async function shownDecisionWithReceipt(fx: TenantFixture) {
  await publishPlaybook(app, fx.admin, requestPlaybook());
  const made = await decide(app, fx.service, decideBody(fx.tenant));
  expect(made.status).toBe(200);
  const receipt = await app.request('GET', `/v1/mmm/receipts/${made.body.receipt_id}`, { token: fx.service });
  expect(receipt.status).toBe(200);
  return { decision: made.body, receipt: receipt.body as Receipt };
}

describe('receipts', () => {
  it('when the keys are listed, then each is an Ed25519 raw 32-byte key in base64url whose key_id is derived from it', async () => {
    const res = await app.request('GET', '/v1/mmm/receipts/keys');

    expect(res.status).toBe(200);
    expect(res.body.keys.length).toBeGreaterThanOrEqual(1);
    for (const k of res.body.keys) {
      expect(k.algorithm).toBe('Ed25519');
      expect(k.public_key).toMatch(/^[A-Za-z0-9_-]+$/);
      const raw = Buffer.from(k.public_key, 'base64url');
      expect(raw).toHaveLength(32);
      expect(k.key_id).toBe(`ed25519-${crypto.createHash('sha256').update(raw).digest('hex').slice(0, 16)}`);
    }
  });

  it('when a decision is made, then its receipt carries every contract field and describes the decision', async () => {
    const fx = newTenant(app);
    const { decision, receipt } = await shownDecisionWithReceipt(fx);

    expect(Object.keys(receipt).sort()).toEqual(
      ['created_at', 'decision_id', 'key_id', 'kind', 'payload', 'payload_sha256', 'prev_receipt_hash', 'receipt_id', 'signature', 'tenant_id'].sort(),
    );
    expect(receipt.receipt_id).toBe(decision.receipt_id);
    expect(receipt.decision_id).toBe(decision.decision_id);
    expect(receipt.tenant_id).toBe(fx.tenant);
    expect(receipt.kind).toBe('decision');
    expect(receipt.created_at).toBe(decision.created_at);
    expect(receipt.payload).toEqual(
      expect.objectContaining({
        actor_id: 'alice',
        outcome: 'shown',
        policy_snapshot_id: decision.policy_snapshot_id,
        actions: [expect.objectContaining({ action_id: decision.actions[0].action_id, type: 'mirror', playbook_id: decision.actions[0].playbook_id })],
      }),
    );
    // The receipt says what was decided, not the text a person wrote.
    expect(JSON.stringify(receipt.payload)).not.toContain(decision.actions[0].payload.body);
  });

  it('when a receipt is verified with the published key, then both the product verifier and an independent one accept it', async () => {
    const fx = newTenant(app);
    const { receipt } = await shownDecisionWithReceipt(fx);
    const publicKey = await publicKeyFor(receipt.key_id);

    expect(verifyReceipt(receipt, publicKey)).toBe(true);
    expect(independentlyVerify(receipt, publicKey)).toBe(true);
  });

  it('when any one byte of a receipt changes, then verification fails', async () => {
    const fx = newTenant(app);
    const { receipt } = await shownDecisionWithReceipt(fx);
    const publicKey = await publicKeyFor(receipt.key_id);
    const sig = Buffer.from(receipt.signature, 'base64url');
    sig[10] ^= 0x01;
    const tampered: Array<[string, Receipt]> = [
      ['payload outcome', { ...receipt, payload: { ...receipt.payload, outcome: 'no_match' } }],
      ['payload actor', { ...receipt, payload: { ...receipt.payload, actor_id: 'alicf' } }],
      ['created_at', { ...receipt, created_at: receipt.created_at.replace(/\d(?=Z$)/, (d) => String((Number(d) + 1) % 10)) }],
      ['decision_id', { ...receipt, decision_id: flipLastHexDigit(receipt.decision_id) }],
      ['key_id', { ...receipt, key_id: flipLastHexDigit(receipt.key_id) }],
      ['prev_receipt_hash', { ...receipt, prev_receipt_hash: 'a'.repeat(64) }],
      ['payload_sha256', { ...receipt, payload_sha256: flipLastHexDigit(receipt.payload_sha256) }],
      ['signature', { ...receipt, signature: sig.toString('base64url') }],
    ];

    for (const [what, r] of tampered) {
      expect(JSON.stringify(r)).not.toBe(JSON.stringify(receipt));
      expect({ what, product: verifyReceipt(r, publicKey), independent: independentlyVerify(r, publicKey) }).toEqual({ what, product: false, independent: false });
    }
  });

  it('when a receipt is verified with another Ed25519 key, then it fails', async () => {
    const fx = newTenant(app);
    const { receipt } = await shownDecisionWithReceipt(fx);
    const other = crypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x as string;

    expect(verifyReceipt(receipt, other)).toBe(false);
    expect(independentlyVerify(receipt, other)).toBe(false);
  });

  it('when a decision matches nothing, then it still gets a signed receipt saying no_match', async () => {
    const fx = newTenant(app);
    const made = await decide(app, fx.service, decideBody(fx.tenant));

    const res = await app.request('GET', `/v1/mmm/receipts/${made.body.receipt_id}`, { token: fx.actor('alice') });

    expect(made.body.outcome).toBe('no_match');
    expect(res.status).toBe(200);
    expect(res.body.decision_id).toBe(made.body.decision_id);
    expect(res.body.payload.outcome).toBe('no_match');
    expect(res.body.payload.actions).toEqual([]);
    expect(independentlyVerify(res.body, await publicKeyFor(res.body.key_id))).toBe(true);
  });

  it("when a tenant makes several decisions, some at once, then its receipts form a hash chain from null, each pointing at the previous whole receipt", async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, requestPlaybook());
    const sequential = [];
    for (const actor of ['a1', 'a2']) sequential.push(await decide(app, fx.service, decideBody(fx.tenant, { actor_id: actor })));
    const concurrent = await Promise.all(['b1', 'b2', 'b3', 'b4', 'b5', 'b6'].map((actor) => decide(app, fx.service, decideBody(fx.tenant, { actor_id: actor }))));
    const decisionIds = [...sequential, ...concurrent].map((r) => r.body.decision_id);

    const chain = await receiptsOf(fx.tenant);

    expect(chain).toHaveLength(8);
    expect(new Set(chain.map((r) => r.decision_id))).toEqual(new Set(decisionIds));
    expect(chain[0].prev_receipt_hash).toBeNull();
    for (let i = 1; i < chain.length; i++) expect(chain[i].prev_receipt_hash).toBe(sha256OfCanonical(chain[i - 1]));
    const publicKey = await publicKeyFor(chain[0].key_id);
    for (const r of chain) expect(independentlyVerify(r, publicKey)).toBe(true);
    // What the API serves is what the ledger chained.
    const served = await app.request('GET', `/v1/mmm/receipts/${chain[5].receipt_id}`, { token: fx.service });
    expect(served.body).toEqual(chain[5]);
  });

  it("when two tenants decide, then each tenant's chain starts at null and never points into the other's", async () => {
    const a = newTenant(app);
    const b = newTenant(app);
    await decide(app, a.service, decideBody(a.tenant));
    await decide(app, b.service, decideBody(b.tenant));
    await decide(app, a.service, decideBody(a.tenant));

    const chainA = await receiptsOf(a.tenant);
    const chainB = await receiptsOf(b.tenant);

    expect(chainA).toHaveLength(2);
    expect(chainB).toHaveLength(1);
    expect(chainB[0].prev_receipt_hash).toBeNull();
    expect(chainA[1].prev_receipt_hash).toBe(sha256OfCanonical(chainA[0]));
  });
});
