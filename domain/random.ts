/**
 * Randomness from a uniform source passed in (experiments; the UBI quality bench uses the seeded one): the workflow's deterministic `Math.random` when a
 * decision draws an arm, a seeded generator (below) when the schedule or a test estimates from posteriors. Nothing
 * here reads a clock or the global generator, so the sandbox lint holds and every draw can be replayed.
 */
export type Uniform = () => number;

/** mulberry32: a small, fast 32-bit generator; good enough for Monte Carlo estimates, and reproducible from a seed. */
export function seededUniform(seed: number): Uniform {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform draw in (0, 1): logarithms below must never see 0. */
function open01(u: Uniform): number {
  for (;;) {
    const x = u();
    if (x > 0 && x < 1) return x;
  }
}

/** A standard normal draw (Box-Muller; the second value is dropped so each call uses exactly two uniforms). */
export function sampleNormal(u: Uniform): number {
  return Math.sqrt(-2 * Math.log(open01(u))) * Math.cos(2 * Math.PI * open01(u));
}

/**
 * A Gamma(shape, 1) draw (Marsaglia and Tsang, 2000). For shape < 1, Gamma(shape + 1) · U^(1/shape), their boost.
 */
export function sampleGamma(shape: number, u: Uniform): number {
  if (!(shape > 0)) throw new RangeError('the shape of a Gamma draw must be positive');
  if (shape < 1) return sampleGamma(shape + 1, u) * Math.pow(open01(u), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = sampleNormal(u);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const w = open01(u);
    if (w < 1 - 0.0331 * x ** 4 || Math.log(w) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A Beta(a, b) draw as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
export function sampleBeta(a: number, b: number, u: Uniform): number {
  const x = sampleGamma(a, u);
  const y = sampleGamma(b, u);
  return x / (x + y);
}

/** A 53-bit string hash (cyrb53), as a number in [0, 1): the same on every replica, runtime and replay. */
export function hashToUnit(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)) / 2 ** 53;
}
