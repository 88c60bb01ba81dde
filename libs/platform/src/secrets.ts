import { readFileSync, statSync } from 'node:fs';

/**
 * Secrets that can be rotated without a restart. `<NAME>_FILE` names a file holding the value (a
 * Kubernetes Secret mounted as a volume: the kubelet swaps the file in place when the Secret
 * changes); the file is read again when its modification time changes, checked at most once per
 * `recheckMs`. Without `<NAME>_FILE`, `<NAME>` from the environment (fixed for the process's
 * life: rotating it needs a rollout). Callers read the value per use, never keep it.
 */
export interface LiveSecretOptions {
  env?: NodeJS.ProcessEnv;
  /** How often the file's mtime is checked (default 1 s). */
  recheckMs?: number;
  now?: () => number;
}

const cache = new Map<string, { value: string | undefined; mtimeMs: number; checkedAt: number }>();

export function liveSecret(name: string, options: LiveSecretOptions = {}): string | undefined {
  const env = options.env ?? process.env;
  const file = env[`${name}_FILE`]?.trim();
  if (!file) return env[name]?.trim() || undefined;
  const now = (options.now ?? Date.now)();
  const hit = cache.get(file);
  if (hit && now - hit.checkedAt < (options.recheckMs ?? 1_000)) return hit.value;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch (error) {
    throw new Error(`${name}_FILE=${file} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  if (hit && hit.mtimeMs === mtimeMs) {
    hit.checkedAt = now;
    return hit.value;
  }
  const value = readFileSync(file, 'utf8').trim() || undefined;
  cache.set(file, { value, mtimeMs, checkedAt: now });
  return value;
}

/** True when the secret is configured (as `<NAME>` or `<NAME>_FILE`), without reading it. */
export function hasSecret(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return !!(env[`${name}_FILE`]?.trim() || env[name]?.trim());
}
