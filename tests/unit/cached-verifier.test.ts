import { signDevToken, createHs256Verifier, type AuthContext, type TokenVerifier } from '../../api/auth';
import { createCachedVerifier } from '../../api/cached-verifier';

const SECRET = 'unit-test-secret-0123456789abcdef';

function counting(inner: TokenVerifier): TokenVerifier & { calls: number } {
  const v = {
    calls: 0,
    async verify(token: string): Promise<AuthContext> {
      v.calls++;
      return inner.verify(token);
    },
  };
  return v;
}

describe('the cached token verifier', () => {
  it('when the same token comes twice, then it is verified once and both answers are the same identity', async () => {
    const inner = counting(createHs256Verifier(SECRET));
    const verifier = createCachedVerifier(inner);
    const token = signDevToken(SECRET, { sub: 'svc', tenant_id: 't1', roles: ['service'] }, 600);

    const [a, b] = [await verifier.verify(token), await verifier.verify(token)];

    expect(a).toEqual({ sub: 'svc', tenant_id: 't1', roles: ['service'] });
    expect(b).toEqual(a);
    expect(inner.calls).toBe(1);
  });

  it("when a cached token's exp has passed, then it is verified again and refused", async () => {
    let now = Date.now();
    const inner = counting(createHs256Verifier(SECRET));
    const verifier = createCachedVerifier(inner, { now: () => now });
    const token = signDevToken(SECRET, { sub: 'svc', tenant_id: 't1', roles: ['service'] }, 2);
    await verifier.verify(token);

    now += 3_000;
    await new Promise((r) => setTimeout(r, 2_100)); // jsonwebtoken reads the real clock for exp

    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'expired_token' });
    expect(inner.calls).toBe(2);
  });

  it('when a token is tampered with after a good one was cached, then the tampered one is verified and refused', async () => {
    const verifier = createCachedVerifier(createHs256Verifier(SECRET));
    const token = signDevToken(SECRET, { sub: 'svc', tenant_id: 't1', roles: ['service'] }, 600);
    await verifier.verify(token);
    const [h, p, s] = token.split('.');
    const forged = [h, Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), tenant_id: 't2' })).toString('base64url'), s].join('.');

    await expect(verifier.verify(forged)).rejects.toMatchObject({ code: 'invalid_token' });
  });

  it('when more tokens than maxEntries were verified, then the oldest is verified again', async () => {
    const inner = counting(createHs256Verifier(SECRET));
    const verifier = createCachedVerifier(inner, { maxEntries: 2 });
    const tokens = ['a', 'b', 'c'].map((sub) => signDevToken(SECRET, { sub, tenant_id: 't1', roles: [] }, 600));
    for (const t of tokens) await verifier.verify(t);

    await verifier.verify(tokens[0]);

    expect(inner.calls).toBe(4);
  });
});
