/**
 * A decision whose context cannot be read (here: a tenant policy row that no longer parses, as a broken dependency
 * would) fails inside its workflow. The caller gets a 503 envelope, never a 500, and nothing is half-written: no
 * decision and no receipt.
 */
import { useTestApp } from '../support/harness';
import { decide, decideBody, newTenant } from './fixtures';

const app = useTestApp();

it('when a decision cannot read its context, then the API answers 503 dependency_unavailable and stores nothing', async () => {
  const fx = newTenant(app);
  await app.runtime.repos.sequelize.query(
    `INSERT INTO tenant_policies (tenant_id, version, policy, updated_at) VALUES (:t, 1, '{"max_nudges_per_window": "many"}', now())`,
    { replacements: { t: fx.tenant } },
  );

  const res = await decide(app, fx.service, decideBody(fx.tenant));

  expect(res.status).toBe(503);
  expect(res.body.error).toMatchObject({ code: 'dependency_unavailable' });
  const [rows] = await app.runtime.repos.sequelize.query(
    'SELECT (SELECT count(*) FROM decisions WHERE tenant_id = :t) AS decisions, (SELECT count(*) FROM receipts WHERE tenant_id = :t) AS receipts',
    { replacements: { t: fx.tenant } },
  );
  expect(rows).toEqual([{ decisions: '0', receipts: '0' }]);
});
