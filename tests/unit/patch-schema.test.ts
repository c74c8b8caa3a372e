import { z } from 'zod';
import { patchSchemaOf } from '../../lib/patch-schema';
import { tenantPolicyInputSchema } from '../../domain/model/policy';
import { preferencesInputSchema } from '../../domain/model/preferences';
import { ubiConfigInputSchema } from '../../domain/model/ubi-config';

const withDefaults = z.strictObject({
  limit: z.number().int().min(0).max(10).default(3).describe('how many'),
  zone: z.string().nullable().default(null),
  tags: z.array(z.string()).default(['a']).optional(),
  label: z.string().optional(),
});

describe('patchSchemaOf', () => {
  it('when a field is left out, then it stays out (no default fills it in), unlike .partial()', () => {
    // eslint-disable-next-line no-restricted-syntax -- the behaviour the rule exists for, shown once
    expect(withDefaults.partial().parse({})).toEqual({ limit: 3, zone: null, tags: ['a'] });
    expect(patchSchemaOf(withDefaults).parse({})).toEqual({});
  });

  it('when one field is given, then only that field is in the result', () => {
    expect(patchSchemaOf(withDefaults).parse({ zone: 'Europe/Berlin' })).toEqual({ zone: 'Europe/Berlin' });
    expect(patchSchemaOf(withDefaults).parse({ zone: null })).toEqual({ zone: null });
  });

  it("when a given field breaks the field's own rules or the object's unknown-key mode, then it is refused by name", () => {
    const bad = patchSchemaOf(withDefaults).safeParse({ limit: 11 });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['limit']);
    expect(patchSchemaOf(withDefaults).safeParse({ other: 1 }).success).toBe(false);
    expect(patchSchemaOf(withDefaults).strip().parse({ other: 1, limit: 2 })).toEqual({ limit: 2 });
  });

  it('when the field had a description, then the patch field keeps it (the OpenAPI document shows it)', () => {
    const doc = z.toJSONSchema(patchSchemaOf(withDefaults)) as { properties: Record<string, { description?: string; default?: unknown }>; required?: string[] };
    expect(doc.properties.limit).toMatchObject({ description: 'how many', type: 'integer' });
    expect(doc.properties.limit.default).toBeUndefined();
    expect(doc.required ?? []).toEqual([]);
  });

  it.each([
    ['tenant policy', tenantPolicyInputSchema],
    ['preferences', preferencesInputSchema],
    ['UBI config', ubiConfigInputSchema],
  ] as const)('when the %s patch is given nothing, then it yields nothing (every defaulted field is undefaulted)', (_name, schema) => {
    expect(patchSchemaOf(schema as z.ZodObject).parse({})).toEqual({});
  });
});
