import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Tokens at rest: AES-256-GCM with a key from the environment (CONSOLE_SESSION_KEYS, a Kubernetes
 * Secret in a cluster). The first key seals; every listed key opens, so a key is rotated by putting
 * the new one first and keeping the old one after it until the sessions it sealed have lapsed
 * (CONSOLE_SESSION_HOURS). The sealed form names its key (`v1.<key id>.<iv>.<tag>.<data>`), and the
 * additional data binds it to its row: a sealed token set copied onto another session does not open.
 */
export class TokenSealer {
  private readonly keys: { id: string; key: Buffer }[];

  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new Error('TokenSealer: at least one key');
    for (const k of keys) if (k.length !== 32) throw new Error('TokenSealer: keys are 32 bytes (AES-256)');
    this.keys = keys.map((key) => ({ id: keyId(key), key }));
  }

  /** The key that seals new data. */
  get currentKeyId(): string {
    return this.keys[0].id;
  }

  seal(plain: string, aad: string): string {
    const { id, key } = this.keys[0];
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
  }

  /** Throws when the key is unknown (rotated out) or the data or its binding was altered. */
  open(sealed: string, aad: string): string {
    const [v, id, iv, tag, data, extra] = sealed.split('.');
    if (v !== 'v1' || !id || !iv || !tag || data === undefined || extra !== undefined) throw new Error('sealed value: unknown format');
    const entry = this.keys.find((k) => k.id === id);
    if (!entry) throw new Error(`sealed value: key ${id} is not configured (rotated out?)`);
    const decipher = createDecipheriv('aes-256-gcm', entry.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }
}

/** A short public name of a key (not the key): the first 8 hex digits of its SHA-256. */
export const keyId = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 8);

/**
 * CONSOLE_SESSION_KEYS: comma-separated base64 (or base64url) 32-byte keys, current first
 * (`openssl rand -base64 32`). Unset outside production: one random key for this process, said in
 * the log (sessions then do not survive a restart and are not shared with other replicas). Unset
 * in production (NODE_ENV=production): refuses to start.
 */
export function sealerFromEnv(env: NodeJS.ProcessEnv = process.env, warn: (msg: string) => void = () => undefined): TokenSealer {
  const raw = env.CONSOLE_SESSION_KEYS?.trim();
  if (!raw) {
    if (env.NODE_ENV === 'production') throw new Error('CONSOLE_SESSION_KEYS is required in production (Secret flowline-console: 32-byte keys, base64, current first)');
    warn('CONSOLE_SESSION_KEYS not set: a random key for this process only (sessions end at restart and are not shared between replicas)');
    return new TokenSealer([randomBytes(32)]);
  }
  const keys = raw.split(',').map((s, i) => {
    const key = Buffer.from(s.trim(), 'base64');
    if (key.length !== 32) throw new Error(`CONSOLE_SESSION_KEYS: key ${i + 1} is ${key.length} bytes, not 32 (openssl rand -base64 32)`);
    return key;
  });
  return new TokenSealer(keys);
}

/** What the database keeps of a cookie's session id: its SHA-256 (a copy of the table holds no usable cookie). */
export const sessionIdHash = (id: string): string => createHash('sha256').update(id).digest('base64url');
