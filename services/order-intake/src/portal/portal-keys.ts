import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PortalConfig } from './portal.config';

/** The portal's signing key (ES256) and HMAC secret. */
export interface PortalKeys {
  privateKey: KeyObject;
  publicJwk: Record<string, string>;
  kid: string;
  secret: string;
  /** Where they came from (for the boot log): env or the generated files. */
  source: string;
}

/**
 * From the environment (PORTAL_SIGNING_KEY / PORTAL_SECRET, or their *_FILE mounts: Kubernetes
 * Secrets), else generated once into `keyDir` (git-ignored `.data/portal-keys`, local runs only).
 * Two processes starting together on one machine race on the files: the first to link its
 * complete file into place wins and both read it back, so they sign with one key.
 */
export function loadPortalKeys(config: PortalConfig, env: NodeJS.ProcessEnv = process.env): PortalKeys {
  const fromFile = (name: string) => {
    const file = env[`${name}_FILE`]?.trim();
    return file ? readFileSync(file, 'utf8').trim() : undefined;
  };
  let pem = config.signingKeyPem ?? fromFile('PORTAL_SIGNING_KEY');
  let secret = config.secret ?? fromFile('PORTAL_SECRET');
  const generated: string[] = [];
  if (!pem || !secret) {
    mkdirSync(config.keyDir, { recursive: true, mode: 0o700 });
    if (!pem) {
      const file = join(config.keyDir, 'portal-es256.pem');
      writeOnce(file, () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
      pem = readFileSync(file, 'utf8');
      generated.push(file);
    }
    if (!secret) {
      const file = join(config.keyDir, 'portal-secret');
      writeOnce(file, () => randomBytes(32).toString('base64url'));
      secret = readFileSync(file, 'utf8').trim();
      generated.push(file);
    }
  }
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('PORTAL_SIGNING_KEY must be an EC P-256 private key (ES256)');
  if (secret.length < 16) throw new Error('PORTAL_SECRET must be at least 16 characters');
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as Record<string, string>;
  // RFC 7638 thumbprint as kid: a rotated key gets a new kid, verifiers refetch the JWKS.
  const kid = createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url');
  return {
    privateKey,
    publicJwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid, use: 'sig', alg: 'ES256' },
    kid,
    secret,
    source: generated.length ? `generated in ${config.keyDir}` : 'environment',
  };
}

/**
 * Creates `file` with `make()` unless it exists, atomically: the content goes to a temporary file
 * first and is hard-linked into place (link fails with EEXIST when another process got there
 * first). A plain `wx` write let a second process read the file between its creation and its
 * content (an empty PEM: "DECODER routines::unsupported" at boot). On a filesystem without hard
 * links it falls back to that `wx` write.
 */
function writeOnce(file: string, make: () => string): void {
  if (existsSync(file)) return;
  const content = make();
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, content, { flag: 'wx', mode: 0o600 });
    linkSync(tmp, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw error;
    try {
      writeFileSync(file, content, { flag: 'wx', mode: 0o600 });
    } catch (fallback) {
      if ((fallback as NodeJS.ErrnoException).code !== 'EEXIST') throw fallback;
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}
