import { z } from 'zod';

/** A field's schema with its top-level `.default()`, `.prefault()` and `.optional()` wrappers taken off. */
type Bare<T> = T extends z.ZodDefault<infer I> ? Bare<I> : T extends z.ZodPrefault<infer I> ? Bare<I> : T extends z.ZodOptional<infer I> ? Bare<I> : T;
export type PatchShape<S extends z.ZodRawShape> = { -readonly [K in keyof S]: z.ZodOptional<Bare<S[K]>> };

/**
 * The "patch" of an object schema whose fields have defaults: every field optional and none defaulted, so what a
 * caller leaves out stays out and the value it is laid over keeps its own. `.partial()` is not that: in zod 4 a
 * defaulted field still takes its default when absent, so `schema.partial().parse({})` is the full set of defaults.
 * Each field keeps its own checks (and description); the object keeps its unknown-key mode.
 */
export function patchSchemaOf<S extends z.ZodRawShape>(schema: z.ZodObject<S>): z.ZodObject<PatchShape<S>> {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(schema.shape) as Array<[string, z.ZodType]>) {
    let bare: z.ZodType = field;
    while (bare instanceof z.ZodDefault || bare instanceof z.ZodPrefault || bare instanceof z.ZodOptional) bare = bare.unwrap() as z.ZodType;
    const patchField = bare.optional();
    shape[key] = field.description ? patchField.describe(field.description) : patchField;
  }
  return schema.extend(shape) as unknown as z.ZodObject<PatchShape<S>>;
}
