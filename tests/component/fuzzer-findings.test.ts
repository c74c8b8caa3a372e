/**
 * What the OpenAPI fuzzer found (issue 14, sections 3 and 4), each as the request that showed it: a timestamp or a
 * string the database cannot take is a 4xx naming the field, an undeclared method is 405 with Allow, and the document
 * states the constraints the server checks.
 */
import { useTestApp } from '../support/harness';
import { decideBody, expectEnvelope, fieldsOf, newTenant, requestPlaybook } from './fixtures';

jest.setTimeout(60000);

const app = useTestApp();

describe('timestamps and strings the database cannot take', () => {
  it.each([
    ['0020-02-29T00:00Z'],
    ['0663-05-03T23:00:55-17:48'],
    ['2024-01-01T00:00:00+17:19'],
    ['2023-02-29T00:00:00Z'],
  ])('when GET /v1/ubi/signals has since=%s, then it is 400 naming query.since, not 500', async (since) => {
    const fx = newTenant(app);

    const res = await app.request('GET', `/v1/ubi/signals?since=${encodeURIComponent(since)}`, { token: fx.service });

    expect(res.status).toBe(400);
    expectEnvelope(res.body, 'validation_failed');
    expect(fieldsOf(res.body)).toEqual(['query.since']);
  });

  it('when since is a timestamp in range with an offset, then the signals are listed', async () => {
    const fx = newTenant(app);

    const res = await app.request('GET', `/v1/ubi/signals?since=${encodeURIComponent('2024-01-01T00:00:00+14:00')}`, { token: fx.service });

    expect(res.status).toBe(200);
    expect(res.body.signals).toEqual([]);
  });

  it('when PUT /v1/mmm/playbooks/{id} has NUL in description, then it is 422 naming description and the playbook keeps version 1', async () => {
    const fx = newTenant(app);
    const created = await app.request('POST', '/v1/mmm/playbooks', { token: fx.admin, body: requestPlaybook() });
    expect(created.status).toBe(201);

    const res = await app.request('PUT', `/v1/mmm/playbooks/${created.body.playbook_id}`, { token: fx.admin, body: { ...requestPlaybook(), description: 'a\u0000b' } });

    expect(res.status).toBe(422);
    expect(fieldsOf(res.body)).toEqual(['description']);
    expect((await app.request('GET', `/v1/mmm/playbooks/${created.body.playbook_id}`, { token: fx.admin })).body.version).toBe(1);
  });

  it('when a decide carries NUL in a signal payload value (stored as jsonb), then it is 422 naming that value', async () => {
    const fx = newTenant(app);
    const body = decideBody(fx.tenant, {
      signal: { signal_id: 'sig-nul', source: 'ubi', kind: 'build_failed', severity: 'high', occurred_at: new Date().toISOString(), payload: { note: 'x\u0000y' } },
    });

    const res = await app.request('POST', '/v1/mmm/decide', { token: fx.service, body });

    expect(res.status).toBe(422);
    expect(fieldsOf(res.body)).toEqual(['signal.payload.note']);
  });

  it('when a UBI event property holds NUL, then that event is rejected naming it and the batch is still answered 202', async () => {
    const fx = newTenant(app);
    const event = { event_id: 'e-nul', tenant_id: fx.tenant, actor_id: 'a1', actor_type: 'human', event_type: 'pr_merged', occurred_at: new Date().toISOString(), source: 'gh', properties: { 'ba\u0000d': 1 } };

    const res = await app.request('POST', '/v1/ubi/events', { token: fx.service, body: { events: [event] } });

    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ accepted: 0, rejected: [{ index: 0, reason: 'invalid_text', field: 'properties[0]' }] });
  });
});

describe('methods a path does not declare', () => {
  it.each([
    ['PATCH', '/metrics', 'GET, HEAD'],
    ['POST', '/v1/mmm/health', 'GET, HEAD'],
    ['PATCH', '/v1/mmm/playbooks/pb-1', 'GET, HEAD, PUT, DELETE'],
    ['DELETE', '/v1/mmm/decide', 'POST'],
    ['PUT', '/v1/openapi.json', 'GET, HEAD'],
  ])('when %s %s is sent, then it is 405 with Allow: %s in the envelope', async (method, path, allow) => {
    const res = await app.request(method, path);

    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expectEnvelope(res.body, 'method_not_allowed');
  });

  it('when OPTIONS is sent to a known path, then it is 204 with Allow; an unknown path is still 404', async () => {
    const options = await app.request('OPTIONS', '/v1/mmm/actors/a1/preferences');
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('GET, HEAD, PUT');

    const unknown = await app.request('GET', '/v1/nothing-here');
    expect(unknown.status).toBe(404);
    expectEnvelope(unknown.body, 'route_not_found');
  });
});

describe('the OpenAPI document says what the server checks', () => {
  let doc: any;
  beforeAll(async () => {
    doc = (await app.request('GET', '/v1/openapi.json')).body;
  });
  const body = (path: string, method: string) => doc.paths[path][method].requestBody.content['application/json'].schema;

  it('when /v1/ubi/metrics is described, then its answer is text/plain, as served', async () => {
    expect(Object.keys(doc.paths['/v1/ubi/metrics'].get.responses['200'].content)).toEqual(['text/plain']);
    const res = await fetch(`${app.url}/v1/ubi/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('when snooze is described, then exactly one of duration_minutes and until is required (oneOf)', () => {
    expect(body('/v1/mmm/actors/{actor_id}/preferences/snooze', 'post').oneOf).toEqual([{ required: ['duration_minutes'] }, { required: ['until'] }]);
  });

  it('when quiet hours and preferences are described, then the time zone is an enum that includes UTC', () => {
    const tz = body('/v1/mmm/tenants/{tenant_id}/policy', 'put').properties.quiet_hours.anyOf.find((s: any) => s.type === 'object').properties.timezone;
    expect(tz.enum).toEqual(expect.arrayContaining(['UTC', 'Europe/Berlin']));
  });

  it('when a playbook body is described, then actions and conditions are oneOf by type and op, and the unsayable rules are x- extensions', () => {
    const pb = body('/v1/mmm/playbooks', 'post');
    const actions = pb.properties.actions.items.oneOf;
    expect(actions.map((a: any) => a.properties.type.const ?? a.properties.type.enum?.[0])).toEqual(['mirror', 'mentor', 'multiplier']);
    expect(actions[2].properties.requires_consent.const ?? actions[2].properties.requires_consent.enum?.[0]).toBe(true);
    expect(actions[0].properties.title['x-prescriptive-words']).toEqual(expect.arrayContaining(['should']));
    const conditions = pb.properties.conditions.items.oneOf;
    expect(conditions).toHaveLength(4);
    expect(JSON.stringify(conditions)).toContain('x-regex-dialect');
  });

  it('when bodies and timestamps are described, then the byte limit and the timestamp range are stated', () => {
    expect(doc.paths['/v1/mmm/decide'].post.requestBody['x-max-body-bytes']).toBe(256 * 1024);
    expect(doc.paths['/v1/ubi/events'].post.requestBody['x-max-body-bytes']).toBe(2 * 1024 * 1024);
    const since = doc.paths['/v1/ubi/signals'].get.parameters.find((p: any) => p.name === 'since').schema;
    expect(since.format).toBe('date-time');
    expect(new RegExp(since.pattern).test('0663-01-01T00:00:00Z')).toBe(false);
    expect(body('/v1/ubi/tenants/{tenant_id}/config', 'put').properties.baseline_schedule.pattern).toBeDefined();
  });
});
