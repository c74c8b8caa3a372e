import crypto from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Receipt, UnsignedReceipt } from '../domain/model/receipt';

/** RFC 8785 (JCS) canonical JSON: the exact bytes that are hashed and signed. */
export function canonicalJson(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined) throw new Error('value cannot be canonicalised');
  return out;
}

export function sha256Hex(text: string): string {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The hash the next receipt points at: over the whole signed receipt, signature included. */
export function receiptHash(receipt: Receipt): string {
  return sha256Hex(canonicalJson(receipt));
}

export interface SigningKey {
  keyId: string;
  publicKeyB64url: string;
  privateKey: crypto.KeyObject;
}

/** Raw 32-byte Ed25519 public key from a KeyObject (the SPKI DER ends with it). */
export function rawPublicKey(publicKey: crypto.KeyObject): Buffer {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return der.subarray(der.length - 32);
}

/** A key id that anyone can recompute from the public key: the first 16 hex digits of its SHA-256. */
export function keyIdFor(rawPublic: Buffer): string {
  return `ed25519-${crypto.createHash('sha256').update(rawPublic).digest('hex').slice(0, 16)}`;
}

export function signingKeyFromPem(privatePem: string): SigningKey {
  const privateKey = crypto.createPrivateKey(privatePem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('the receipt signing key must be an Ed25519 private key');
  const raw = rawPublicKey(crypto.createPublicKey(privateKey));
  return { keyId: keyIdFor(raw), publicKeyB64url: raw.toString('base64url'), privateKey };
}

export function generateSigningKey(): { key: SigningKey; privatePem: string } {
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { key: signingKeyFromPem(privatePem), privatePem };
}

export function signReceipt(unsigned: UnsignedReceipt, key: SigningKey): Receipt {
  if (unsigned.key_id !== key.keyId) throw new Error('receipt key_id does not match the signing key');
  const signature = crypto.sign(null, Buffer.from(canonicalJson(unsigned), 'utf8'), key.privateKey).toString('base64url');
  return { ...unsigned, signature };
}

/** Offline verification: needs only the receipt and the raw public key published at /v1/mmm/receipts/keys. */
export function verifyReceipt(receipt: Receipt, publicKeyB64url: string): boolean {
  const { signature, ...unsigned } = receipt;
  const raw = Buffer.from(publicKeyB64url, 'base64url');
  if (raw.length !== 32) return false;
  // SPKI prefix for Ed25519 (RFC 8410), followed by the 32 raw key bytes.
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]);
  const publicKey = crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' });
  if (sha256Hex(canonicalJson(unsigned.payload)) !== unsigned.payload_sha256) return false;
  try {
    return crypto.verify(null, Buffer.from(canonicalJson(unsigned), 'utf8'), publicKey, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}
