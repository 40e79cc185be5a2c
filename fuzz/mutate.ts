// Deterministic input generation for the fuzz targets: a seeded PRNG and an AFL-style stack of byte
// mutations over a seed corpus and a per-target dictionary. Input number i of run seed S is a pure
// function of (S, i, target), so a crash or hang is reproduced from three numbers, never from a
// saved file alone (inputs of several MB are not worth keeping).

/** sfc32: small, fast, good enough for mutation choices; seeded through splitmix32. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    let s = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** Biased towards small values: [0, n) with log-uniform magnitude. */
  small(n: number): number {
    if (n <= 1) return 0;
    const bits = Math.ceil(Math.log2(n));
    return Math.min(n - 1, this.int(2 ** (1 + this.int(bits))));
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }
}

const INTERESTING = [0x00, 0x01, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x25, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x30, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x40, 0x5b, 0x5c, 0x5d, 0x7b, 0x7d, 0x7e, 0x7f, 0x80, 0xc0, 0xc3, 0xe2, 0xef, 0xfe, 0xff];
const NUMBERS = ['0', '1', '-1', '4294967295', '4294967296', '9007199254740993', '18446744073709551616', '99999999999999999999999', '1e309', '0x10', '00000000000001', '-0', '2147483648'];

export interface MutatorConfig {
  seeds: readonly Buffer[];
  dictionary: readonly Buffer[];
  /** Typical upper bound of an input; the rare "huge" mutation may go to hugeSize. */
  maxSize: number;
  hugeSize: number;
}

function range(rng: Rng, len: number): [number, number] {
  const start = rng.int(len + 1);
  const n = rng.small(Math.max(1, Math.min(len - start, 4096)) + 1);
  return [start, Math.min(len, start + n)];
}

/** One mutation of `buf`; may return the same buffer. */
function mutateOnce(rng: Rng, buf: Buffer, cfg: MutatorConfig): Buffer {
  const len = buf.length;
  const op = rng.int(14);
  const token = (): Buffer => (cfg.dictionary.length && rng.chance(0.85) ? rng.pick(cfg.dictionary) : Buffer.from(rng.pick(NUMBERS)));
  switch (op) {
    case 0: {
      if (!len) return token();
      const out = Buffer.from(buf);
      const i = rng.int(len);
      out[i] = out[i]! ^ (1 << rng.int(8));
      return out;
    }
    case 1: {
      if (!len) return token();
      const out = Buffer.from(buf);
      out[rng.int(len)] = rng.chance(0.7) ? rng.pick(INTERESTING) : rng.int(256);
      return out;
    }
    case 2: {
      const [s, e] = range(rng, len);
      return Buffer.concat([buf.subarray(0, s), buf.subarray(e)]);
    }
    case 3: {
      const [s, e] = range(rng, len);
      const at = rng.int(len + 1);
      return Buffer.concat([buf.subarray(0, at), buf.subarray(s, e), buf.subarray(at)]);
    }
    case 4:
    case 5: {
      const at = rng.int(len + 1);
      return Buffer.concat([buf.subarray(0, at), token(), buf.subarray(at)]);
    }
    case 6: {
      const [s, e] = range(rng, len);
      return Buffer.concat([buf.subarray(0, s), token(), buf.subarray(e)]);
    }
    case 7: {
      const other = rng.pick(cfg.seeds);
      const cut = rng.int(len + 1);
      return Buffer.concat([buf.subarray(0, cut), other.subarray(rng.int(other.length + 1))]);
    }
    case 8:
      return buf.subarray(0, rng.int(len + 1));
    case 9: {
      // Case change: the protocols are case-insensitive in places, the parsers must agree.
      const [s, e] = range(rng, len);
      const mid = buf.subarray(s, e).toString('latin1');
      return Buffer.concat([buf.subarray(0, s), Buffer.from(rng.chance(0.5) ? mid.toUpperCase() : mid.toLowerCase(), 'latin1'), buf.subarray(e)]);
    }
    case 10: {
      // A token repeated: nesting, long lines, many fields (stays within maxSize).
      const t = rng.chance(0.5) ? token() : buf.subarray(...range(rng, len));
      if (!t.length) return buf;
      const times = 2 + rng.small(Math.max(2, Math.floor(cfg.maxSize / t.length)));
      const at = rng.int(len + 1);
      return Buffer.concat([buf.subarray(0, at), Buffer.alloc(t.length * times).fill(t), buf.subarray(at)]);
    }
    case 11: {
      if (!len) return buf;
      const [s, e] = range(rng, len);
      return Buffer.concat([buf.subarray(0, s), Buffer.from(rng.pick(NUMBERS)), buf.subarray(e)]);
    }
    case 12: {
      // Swap two ranges.
      const [s1, e1] = range(rng, len);
      const [s2, e2] = range(rng, len);
      if (e1 > s2) return buf;
      return Buffer.concat([buf.subarray(0, s1), buf.subarray(s2, e2), buf.subarray(e1, s2), buf.subarray(s1, e1), buf.subarray(e2)]);
    }
    default: {
      const out = Buffer.from(buf);
      for (let k = rng.small(8) + 1; k > 0 && len; k--) out[rng.int(len)] = rng.int(256);
      return out;
    }
  }
}

/** The rare huge input: a slice or token repeated up to hugeSize (long lines, deep nesting, big literals). */
function huge(rng: Rng, buf: Buffer, cfg: MutatorConfig): Buffer {
  const t = cfg.dictionary.length && rng.chance(0.5) ? rng.pick(cfg.dictionary) : buf.subarray(...range(rng, buf.length));
  if (!t.length) return buf;
  const target = cfg.maxSize + rng.int(Math.max(1, cfg.hugeSize - cfg.maxSize));
  const times = Math.max(2, Math.floor(target / t.length));
  const at = rng.int(buf.length + 1);
  return Buffer.concat([buf.subarray(0, at), Buffer.alloc(t.length * times).fill(t), buf.subarray(at)]);
}

/** Input number `index` of run `seed`: a seed from the corpus (sometimes a raw one) with stacked mutations. */
export function generateInput(cfg: MutatorConfig, seed: number, index: number): Buffer {
  const rng = new Rng(seed, index);
  let buf = cfg.seeds.length ? rng.pick(cfg.seeds) : Buffer.alloc(0);
  if (rng.chance(0.03)) return buf; // unmutated seeds keep the valid paths exercised
  if (rng.chance(0.02)) {
    // Pure noise now and then.
    const out = Buffer.alloc(rng.small(cfg.maxSize));
    for (let i = 0; i < out.length; i++) out[i] = rng.int(256);
    return out;
  }
  const stack = 1 + rng.small(16);
  for (let k = 0; k < stack; k++) {
    buf = mutateOnce(rng, buf, cfg);
    if (buf.length > cfg.maxSize) buf = buf.subarray(0, cfg.maxSize);
  }
  if (rng.chance(0.004)) buf = huge(rng, buf, cfg);
  return buf;
}

/** A second PRNG for the target's own choices (chunk splits, options) with the same input number. */
export function choiceRng(seed: number, index: number): Rng {
  return new Rng(seed ^ 0x5bd1e995, index);
}
