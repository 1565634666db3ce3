/**
 * A public key as OpenSSH 9.2 reads one from a known_hosts line (sshkey.c sshkey_read): a key type
 * name it knows, then base64 decoded as b64_pton does, then a key blob whose every field is right
 * for that type (sshkey_from_blob_internal and each type's deserialize_public). A line whose key
 * fails any of these is skipped by ssh(1); lvsplay must skip it too, or a corrupt line would make a
 * host look "changed" (and be refused) where ssh connects, or the other way round.
 */
import { generateKeyPairSync } from 'node:crypto';

/** What a key's blob holds after its type name, per kind of key. */
type Kind = 'ed25519' | 'ed25519-sk' | 'ecdsa' | 'ecdsa-sk' | 'rsa' | 'dsa' | 'cert';

interface KeyType {
  /** The name written in known_hosts and at the start of the blob. */
  name: string;
  kind: Kind;
  /** The plain key type it is (rsa-sha2-256 is an RSA key): what a line's type and its blob must agree on. */
  plain: string;
  /** sshkey_type_from_name also takes a plain type's short name, in any case, at the start of a blob. */
  shortname?: string;
  curve?: { nid: string; jwk: 'P-256' | 'P-384' | 'P-521'; bytes: number; orderBits: number };
}

const P256 = { nid: 'nistp256', jwk: 'P-256', bytes: 32, orderBits: 256 } as const;
const P384 = { nid: 'nistp384', jwk: 'P-384', bytes: 48, orderBits: 384 } as const;
const P521 = { nid: 'nistp521', jwk: 'P-521', bytes: 66, orderBits: 521 } as const;
const CERT = '-cert-v01@openssh.com';

/** sshkey.c's keyimpls as Debian builds 9.2 (OpenSSL, security keys, no XMSS), in its order. */
const KEY_TYPES: readonly KeyType[] = [
  { name: 'ssh-ed25519', kind: 'ed25519', plain: 'ssh-ed25519', shortname: 'ED25519' },
  { name: `ssh-ed25519${CERT}`, kind: 'cert', plain: `ssh-ed25519${CERT}` },
  { name: 'sk-ssh-ed25519@openssh.com', kind: 'ed25519-sk', plain: 'sk-ssh-ed25519@openssh.com', shortname: 'ED25519-SK' },
  { name: `sk-ssh-ed25519${CERT}`, kind: 'cert', plain: `sk-ssh-ed25519${CERT}` },
  { name: 'ecdsa-sha2-nistp256', kind: 'ecdsa', plain: 'ecdsa-sha2-nistp256', shortname: 'ECDSA', curve: P256 },
  { name: 'ecdsa-sha2-nistp384', kind: 'ecdsa', plain: 'ecdsa-sha2-nistp384', shortname: 'ECDSA', curve: P384 },
  { name: 'ecdsa-sha2-nistp521', kind: 'ecdsa', plain: 'ecdsa-sha2-nistp521', shortname: 'ECDSA', curve: P521 },
  { name: `ecdsa-sha2-nistp256${CERT}`, kind: 'cert', plain: `ecdsa-sha2-nistp256${CERT}` },
  { name: `ecdsa-sha2-nistp384${CERT}`, kind: 'cert', plain: `ecdsa-sha2-nistp384${CERT}` },
  { name: `ecdsa-sha2-nistp521${CERT}`, kind: 'cert', plain: `ecdsa-sha2-nistp521${CERT}` },
  { name: 'sk-ecdsa-sha2-nistp256@openssh.com', kind: 'ecdsa-sk', plain: 'sk-ecdsa-sha2-nistp256@openssh.com', shortname: 'ECDSA-SK', curve: P256 },
  { name: `sk-ecdsa-sha2-nistp256${CERT}`, kind: 'cert', plain: `sk-ecdsa-sha2-nistp256${CERT}` },
  { name: 'ssh-dss', kind: 'dsa', plain: 'ssh-dss', shortname: 'DSA' },
  { name: `ssh-dss${CERT}`, kind: 'cert', plain: `ssh-dss${CERT}` },
  { name: 'ssh-rsa', kind: 'rsa', plain: 'ssh-rsa', shortname: 'RSA' },
  { name: 'rsa-sha2-256', kind: 'rsa', plain: 'ssh-rsa', shortname: 'RSA' },
  { name: 'rsa-sha2-512', kind: 'rsa', plain: 'ssh-rsa', shortname: 'RSA' },
  { name: `ssh-rsa${CERT}`, kind: 'cert', plain: `ssh-rsa${CERT}` },
  { name: `rsa-sha2-256${CERT}`, kind: 'cert', plain: `ssh-rsa${CERT}` },
  { name: `rsa-sha2-512${CERT}`, kind: 'cert', plain: `ssh-rsa${CERT}` },
];

const BY_NAME = new Map(KEY_TYPES.map((t) => [t.name, t]));

/** sshkey_type_from_name: the exact name, or a plain type's short name in any case. */
function typeOfBlobName(name: string): KeyType | undefined {
  const exact = BY_NAME.get(name);
  if (exact !== undefined) return exact;
  const upper = asciiUpper(name);
  return KEY_TYPES.find((t) => t.name === name || (t.shortname !== undefined && t.shortname === upper));
}

/** C's toupper in the C locale: ASCII letters only. */
function asciiUpper(text: string): string {
  return text.replace(/[a-z]+/g, (s) => s.toUpperCase());
}

/** C's isspace in the C locale: what b64_pton skips anywhere in its input. */
const C_SPACE = /[ \t\n\v\f\r]/g;

/**
 * Base64 as OpenBSD's b64_pton decodes it: white space anywhere skipped, `=` padding only where it
 * completes the last group (never unpadded), nothing but white space after it, and the bits past
 * the last whole byte zero. undefined where b64_pton returns -1.
 */
export function decodeBase64(text: string): Buffer | undefined {
  const match = /^([A-Za-z0-9+/]*)(={0,2})$/.exec(text.replace(C_SPACE, ''));
  if (!match) return undefined;
  const [, body = '', pad = ''] = match;
  const left = body.length % 4;
  if (!(pad === '' ? left === 0 : pad === '=' ? left === 3 : left === 2)) return undefined;
  const bytes = Buffer.from(body, 'base64');
  return bytes.toString('base64') === body + pad ? bytes : undefined;
}

/** Reads the length-prefixed fields of a key blob as sshbuf does. */
class BlobReader {
  #at = 0;
  /** Whether a field read is not in the form OpenSSH writes it (a trailing NUL, an integer's extra zeros). */
  altered = false;
  constructor(private readonly blob: Buffer) {}

  get done(): boolean {
    return this.#at === this.blob.length;
  }

  string(): Buffer | undefined {
    if (this.#at + 4 > this.blob.length) return undefined;
    const length = this.blob.readUInt32BE(this.#at);
    if (length > this.blob.length - this.#at - 4) return undefined;
    const value = this.blob.subarray(this.#at + 4, this.#at + 4 + length);
    this.#at += 4 + length;
    return value;
  }

  /** sshbuf_get_cstring: a NUL only as the last byte (where the C string ends anyway). */
  cstring(): string | undefined {
    const value = this.string();
    if (value === undefined) return undefined;
    const nul = value.indexOf(0);
    if (nul !== -1 && nul < value.length - 1) return undefined;
    if (nul !== -1) this.altered = true;
    return value.subarray(0, nul === -1 ? value.length : nul).toString('latin1');
  }

  /** sshbuf_get_bignum2: not negative, at most 16,384 bits, leading zeros dropped. */
  bignum(): Buffer | undefined {
    const value = this.string();
    if (value === undefined || (value.length > 0 && (value[0]! & 0x80) !== 0)) return undefined;
    if (value.length > 2049 || (value.length === 2049 && value[0] !== 0)) return undefined;
    const magnitude = stripZeros(value);
    if (mpint(magnitude).length !== value.length) this.altered = true;
    return magnitude;
  }
}

/** SSH wire strings (RFC 4251 §5), each length-prefixed: how a key blob is written. */
export function blobOf(...fields: readonly (Buffer | string)[]): Buffer {
  return Buffer.concat(fields.flatMap((f) => {
    const bytes = typeof f === 'string' ? Buffer.from(f, 'latin1') : f;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return [length, bytes];
  }));
}

/** An SSH mpint of a non-negative integer given without leading zeros. */
function mpint(magnitude: Buffer): Buffer {
  return magnitude.length > 0 && (magnitude[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude;
}

function bitLength(magnitude: Buffer): number {
  if (magnitude.length === 0) return 0;
  return (magnitude.length - 1) * 8 + (32 - Math.clz32(magnitude[0]!));
}

/**
 * An EC public point as sshbuf_get_eckey and sshkey_ec_validate_public take it: uncompressed, on
 * the curve, each coordinate longer than half the group order's bits. On the curve is checked with
 * BigInt arithmetic (y² = x³ − 3x + b mod p): importing each key through OpenSSL cost ~100 µs a
 * line, a second for a 10,000-line known_hosts.
 */
function ecPointValid(point: Buffer, curve: NonNullable<KeyType['curve']>): boolean {
  if (point.length !== 1 + 2 * curve.bytes || point[0] !== 0x04) return false;
  const x = point.subarray(1, 1 + curve.bytes);
  const y = point.subarray(1 + curve.bytes);
  const half = Math.floor(curve.orderBits / 2);
  if (bitLength(stripZeros(x)) <= half || bitLength(stripZeros(y)) <= half) return false;
  return onCurve(curve, BigInt(`0x${x.toString('hex')}`), BigInt(`0x${y.toString('hex')}`));
}

/** The NIST curves' primes (FIPS 186-4, D.1.2); a = −3 for all three. */
const PRIMES: Record<string, bigint> = {
  'P-256': 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
  'P-384': 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
  'P-521': 2n ** 521n - 1n,
};

/** Each curve's b, derived once from a point OpenSSL made (b = y² − x³ + 3x), not copied by hand. */
const curveB = new Map<string, bigint>();

function onCurve(curve: NonNullable<KeyType['curve']>, x: bigint, y: bigint): boolean {
  const p = PRIMES[curve.jwk]!;
  if (x >= p || y >= p) return false;
  let b = curveB.get(curve.jwk);
  if (b === undefined) {
    const jwk = generateKeyPairSync('ec', { namedCurve: curve.jwk }).publicKey.export({ format: 'jwk' });
    const gx = BigInt(`0x${Buffer.from(jwk.x!, 'base64url').toString('hex')}`);
    const gy = BigInt(`0x${Buffer.from(jwk.y!, 'base64url').toString('hex')}`);
    b = mod(gy * gy - gx * gx * gx + 3n * gx, p);
    curveB.set(curve.jwk, b);
  }
  return mod(y * y, p) === mod(x * x * x - 3n * x + b, p);
}

function mod(value: bigint, p: bigint): bigint {
  const r = value % p;
  return r < 0n ? r + p : r;
}

function stripZeros(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start += 1;
  return bytes.subarray(start);
}

/**
 * A key blob read as sshkey_from_blob reads it, returned in OpenSSH's own encoding (so two blobs of
 * the same key compare equal byte for byte, as sshkey_equal compares keys), with its type; undefined
 * for a blob OpenSSH refuses. Certificates are taken as a whole blob of their named type: lvsplay
 * pins plain host keys only, and a certificate line for the host counts as another key, as in ssh.
 */
export function readKeyBlob(blob: Buffer): { type: KeyType; blob: Buffer } | undefined {
  const reader = new BlobReader(blob);
  const name = reader.cstring();
  const type = name === undefined ? undefined : typeOfBlobName(name);
  if (name === undefined || type === undefined) return undefined;
  if (type.kind === 'cert') return { type, blob };
  const fields = readFields(reader, type, name);
  if (fields === undefined || !reader.done) return undefined;
  // Already as OpenSSH writes it (the usual case): no copy.
  const canonical = !reader.altered && name === type.plain ? blob : blobOf(type.plain, ...fields);
  return { type: BY_NAME.get(type.plain)!, blob: canonical };
}

function readFields(reader: BlobReader, type: KeyType, name: string): (Buffer | string)[] | undefined {
  switch (type.kind) {
    case 'ed25519':
    case 'ed25519-sk': {
      const key = reader.string();
      if (key?.length !== 32) return undefined;
      if (type.kind === 'ed25519') return [key];
      const application = reader.cstring();
      return application === undefined ? undefined : [key, application];
    }
    case 'ecdsa':
    case 'ecdsa-sk': {
      // The curve comes from the blob's own type name: a short name ("ECDSA") names none.
      const curve = KEY_TYPES.find((t) => t.name === name)?.curve;
      const curveName = reader.cstring();
      const point = reader.string();
      if (curve === undefined || curveName !== curve.nid || point === undefined || !ecPointValid(point, curve)) return undefined;
      if (type.kind === 'ecdsa') return [curve.nid, point];
      const application = reader.cstring();
      return application === undefined ? undefined : [curve.nid, point, application];
    }
    case 'rsa': {
      const e = reader.bignum();
      const n = reader.bignum();
      // SSH_RSA_MINIMUM_MODULUS_SIZE: sshkey_check_rsa_length refuses a smaller key outright.
      if (e === undefined || n === undefined || bitLength(n) < 1024) return undefined;
      return [mpint(e), mpint(n)];
    }
    case 'dsa': {
      const parts = [reader.bignum(), reader.bignum(), reader.bignum(), reader.bignum()];
      return parts.every((p) => p !== undefined) ? parts.map((p) => mpint(p!)) : undefined;
    }
    case 'cert':
      return undefined;
  }
}

/**
 * The key of a known_hosts line's key field (type name, white space, base64, then anything), as
 * sshkey_read reads it: the type name one OpenSSH knows, exactly; the blob a key of that plain type
 * (and curve). undefined when ssh would skip the line.
 */
export function readKnownHostsKey(field: string): { keyType: string; key: Buffer } | undefined {
  const typeEnd = field.search(/[ \t]/);
  if (typeEnd === -1) return undefined;
  const lineType = BY_NAME.get(field.slice(0, typeEnd));
  const rest = field.slice(typeEnd).replace(/^[ \t]+/, '');
  if (lineType === undefined || rest === '') return undefined;
  const blobEnd = rest.search(/[ \t]/);
  const bytes = decodeBase64(blobEnd === -1 ? rest : rest.slice(0, blobEnd));
  const read = bytes === undefined ? undefined : readKeyBlob(bytes);
  if (read === undefined || read.type.plain !== lineType.plain) return undefined;
  if (lineType.curve !== undefined && read.type.curve?.nid !== lineType.curve.nid) return undefined;
  return { keyType: read.type.name, key: read.blob };
}
