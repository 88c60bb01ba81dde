import { createHash, randomBytes } from 'node:crypto';

/** RFC 7636: a high-entropy verifier kept server-side and its S256 challenge sent in the authorization request. */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomToken(48);
  return { verifier, challenge: s256(verifier) };
}

export const s256 = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url');
