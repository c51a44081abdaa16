// Short, typeable identifiers: a kind prefix plus Crockford base32 randomness.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export function encodeId(prefix: string, bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += ALPHABET[b & 31];
  return `${prefix}-${out}`;
}
