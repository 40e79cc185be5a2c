// MD5 (RFC 1321) with an exposed internal state.
//
// node:crypto cannot export or import a hash's intermediate state, and CRAM-MD5
// storage needs exactly that: HMAC-MD5(password, challenge) can be computed from
// the MD5 state after the single 64-byte block key^ipad (and key^opad), so the
// password itself need not be kept (Dovecot's CRAM-MD5 scheme). Only use this for
// that; everything else uses node:crypto.

/** RFC 1321 3.3: initial chaining values A, B, C, D. */
const IV: readonly number[] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];

// RFC 1321 3.4: T[i] = floor(2^32 * abs(sin(i + 1))).
const T = new Uint32Array(64);
for (let i = 0; i < 64; i++) T[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 0x100000000) >>> 0;

const S = [
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
  5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];

export const MD5_BLOCK_SIZE = 64;
export const MD5_DIGEST_SIZE = 16;

/** Processes one 64-byte block at `off` into `state` (four 32-bit words), RFC 1321 3.4. */
function compress(state: Uint32Array, block: Uint8Array, off: number): void {
  const x = new Uint32Array(16);
  for (let i = 0; i < 16; i++) {
    const o = off + i * 4;
    x[i] = (block[o] | (block[o + 1] << 8) | (block[o + 2] << 16) | (block[o + 3] << 24)) >>> 0;
  }
  let a = state[0], b = state[1], c = state[2], d = state[3];
  for (let i = 0; i < 64; i++) {
    let f: number;
    let g: number;
    if (i < 16) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (d & b) | (~d & c);
      g = (5 * i + 1) & 15;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = (3 * i + 5) & 15;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) & 15;
    }
    const sum = (a + f + T[i] + x[g]) >>> 0;
    const rotated = ((sum << S[i]) | (sum >>> (32 - S[i]))) >>> 0;
    a = d;
    d = c;
    c = b;
    b = (b + rotated) >>> 0;
  }
  state[0] = (state[0] + a) >>> 0;
  state[1] = (state[1] + b) >>> 0;
  state[2] = (state[2] + c) >>> 0;
  state[3] = (state[3] + d) >>> 0;
}

/** Serialises the four state words little-endian (RFC 1321 3.5 byte order, as Dovecot stores them). */
function stateToBytes(state: Uint32Array): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 4; i++) out.writeUInt32LE(state[i], i * 4);
  return out;
}

/** Incremental MD5 whose chaining state can be exported after whole blocks and resumed later. */
export class Md5 {
  private readonly state: Uint32Array;
  private readonly pending = Buffer.alloc(MD5_BLOCK_SIZE);
  private pendingLength = 0;
  private totalLength: number;
  private finished = false;

  /**
   * @param midstate 16-byte state from {@link Md5.midstate}; omit to start from the RFC 1321 IV.
   * @param processedBytes bytes already hashed into `midstate` (a multiple of 64).
   */
  constructor(midstate?: Buffer, processedBytes = 0) {
    this.state = new Uint32Array(IV);
    if (midstate !== undefined) {
      if (midstate.length !== MD5_DIGEST_SIZE) throw new RangeError('MD5 midstate must be 16 bytes');
      if (processedBytes <= 0 || processedBytes % MD5_BLOCK_SIZE !== 0) {
        throw new RangeError('processedBytes must be a positive multiple of 64');
      }
      for (let i = 0; i < 4; i++) this.state[i] = midstate.readUInt32LE(i * 4);
    }
    this.totalLength = midstate === undefined ? 0 : processedBytes;
  }

  update(data: Uint8Array | string): this {
    if (this.finished) throw new Error('MD5 already finalised');
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.totalLength += bytes.length;
    let i = 0;
    if (this.pendingLength > 0) {
      const take = Math.min(MD5_BLOCK_SIZE - this.pendingLength, bytes.length);
      this.pending.set(bytes.subarray(0, take), this.pendingLength);
      this.pendingLength += take;
      i = take;
      if (this.pendingLength < MD5_BLOCK_SIZE) return this;
      compress(this.state, this.pending, 0);
      this.pendingLength = 0;
    }
    for (; i + MD5_BLOCK_SIZE <= bytes.length; i += MD5_BLOCK_SIZE) compress(this.state, bytes, i);
    if (i < bytes.length) {
      this.pending.set(bytes.subarray(i), 0);
      this.pendingLength = bytes.length - i;
    }
    return this;
  }

  /** The chaining state; only defined on a block boundary (what HMAC midstates need). */
  midstate(): Buffer {
    if (this.pendingLength !== 0) throw new Error('MD5 midstate is only defined on a 64-byte boundary');
    return stateToBytes(this.state);
  }

  /** RFC 1321 3.1-3.2 padding and length, then the 16-byte digest. */
  digest(): Buffer {
    if (this.finished) throw new Error('MD5 already finalised');
    const bitLength = BigInt(this.totalLength) * 8n;
    const padLength = this.pendingLength < 56 ? 56 - this.pendingLength : 120 - this.pendingLength;
    const pad = Buffer.alloc(padLength + 8);
    pad[0] = 0x80;
    pad.writeBigUInt64LE(bitLength & 0xffffffffffffffffn, padLength);
    this.update(pad);
    this.finished = true;
    return stateToBytes(this.state);
  }
}

export function md5(data: Uint8Array | string): Buffer {
  return new Md5().update(data).digest();
}

/** The HMAC-MD5 (RFC 2104) inner and outer midstates for a key: what CRAM-MD5 storage keeps. */
export interface HmacMd5Midstates {
  inner: Buffer;
  outer: Buffer;
}

/** RFC 2104 2: keys longer than the block are hashed first, then padded with zeros and xored. */
export function hmacMd5Midstates(key: Uint8Array): HmacMd5Midstates {
  const k = Buffer.alloc(MD5_BLOCK_SIZE);
  k.set(key.length > MD5_BLOCK_SIZE ? md5(key) : key);
  const ipad = Buffer.alloc(MD5_BLOCK_SIZE);
  const opad = Buffer.alloc(MD5_BLOCK_SIZE);
  for (let i = 0; i < MD5_BLOCK_SIZE; i++) {
    ipad[i] = k[i] ^ 0x36;
    opad[i] = k[i] ^ 0x5c;
  }
  k.fill(0);
  return { inner: new Md5().update(ipad).midstate(), outer: new Md5().update(opad).midstate() };
}

/** HMAC-MD5(key, message) from the key's midstates, without the key. */
export function hmacMd5FromMidstates(states: HmacMd5Midstates, message: Uint8Array | string): Buffer {
  const innerDigest = new Md5(states.inner, MD5_BLOCK_SIZE).update(message).digest();
  return new Md5(states.outer, MD5_BLOCK_SIZE).update(innerDigest).digest();
}
