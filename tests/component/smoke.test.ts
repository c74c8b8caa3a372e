import { startTestApp, uniqueId, type TestApp } from '../support/harness';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
});

it('when a service asks for a decision with no published playbooks, then it gets a no_match decision with a receipt', async () => {
  const tenant = uniqueId('t');
  const token = app.token({ tenant_id: tenant, sub: 'svc', roles: ['service'] });
  const res = await app.request('POST', '/v1/mmm/decide', {
    token,
    body: { tenant_id: tenant, actor_id: 'a1', actor_type: 'human', surface: 'ide' },
  });
  expect(res.status).toBe(200);
  expect(res.body.outcome).toBe('no_match');
  expect(res.body.receipt_id).toMatch(/^rcpt_/);
});
