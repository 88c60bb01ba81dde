import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * No secret lives in the repository (issue #16): credentials come from the environment or a
 * Kubernetes Secret only. Every file git tracks (plus new, not ignored ones) is searched for
 * private keys, provider tokens, JWTs, passwords in URLs and secret-looking assignments.
 *
 * Allowed, on purpose and few:
 * - the local issuer's documented demo password `demo` and the local fakes' demo credentials
 *   (scripts/fakes: they only open the fakes on 127.0.0.1);
 * - placeholders (`CHANGE_ME`, `...`, `${VAR}`, `<...>`);
 * - made-up values in tests and test fakes (`*.spec.ts`, `*-spec.ts`, `test/`, `fakes/`): never a
 *   private key, provider token or JWT, though.
 */
const root = resolve(__dirname, '../../../..');

/** Values a non-test file may assign to a secret-looking name. */
const DEMO_VALUES = new Set(['demo', 'postgres', 'demo-sms-secret', 'demo-webhook-secret', '***']);

const PLACEHOLDER = /^(CHANGE_ME|changeme|pass|password|secret|\.\.\.|x+|\*+|<[^>]*>|\$\{[^}]*\}|\$[A-Z_]+|%[^%]*%|\{\{[^}]*\}\})$/i;

/** Never allowed, tests included. */
const FORBIDDEN: { name: string; re: RegExp }[] = [
  { name: 'private key', re: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----/ },
  { name: 'AWS access key id', re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { name: 'GitHub token', re: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/ },
  { name: 'Slack token', re: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
  { name: 'Stripe live key', re: /\b[sr]k_live_[A-Za-z0-9]{16,}/ },
  { name: 'Google API key', re: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { name: 'JWT', re: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}/ },
];

/** `scheme://user:password@host` with a literal password. */
const URL_PASSWORD = /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@'"`]+:([^\s/@'"`]+)@/gi;

/** `password: 'x'`, `SECRET="x"`, `apiKey = 'x'` ... with a quoted literal. */
const ASSIGNMENT = /\b([A-Za-z_]*(?:password|passwd|secret|api[_-]?key|access[_-]?key|private[_-]?key|auth[_-]?token|client[_-]?secret)[A-Za-z_]*)["']?\s*[:=]\s*(["'`])([^"'`\n]{4,})\2/gi;

const isTestFile = (path: string) => /(\.spec\.ts|-spec\.ts|\.spec\.mts)$/.test(path) || /(^|\/)(test|tests|fakes|__fixtures__)\//.test(path);
const BINARY = /\.(png|jpe?g|gif|ico|webp|pdf|xlsx|zip|gz|tgz|jar|woff2?|ttf|pb|bin|descriptor|desc)$/i;

function repositoryFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, maxBuffer: 64 * 1024 * 1024 }).toString();
  return out.split('\0').filter((p) => p && !BINARY.test(p) && p !== 'package-lock.json');
}

interface Finding {
  file: string;
  line: number;
  what: string;
}

function scan(path: string, text: string): Finding[] {
  const findings: Finding[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    for (const f of FORBIDDEN) if (f.re.test(line)) findings.push({ file: path, line: i + 1, what: f.name });
    if (isTestFile(path)) return;
    for (const m of line.matchAll(URL_PASSWORD)) {
      if (!PLACEHOLDER.test(m[1]) && !DEMO_VALUES.has(m[1])) findings.push({ file: path, line: i + 1, what: `password in a URL (${m[0].slice(0, 40)})` });
    }
    for (const m of line.matchAll(ASSIGNMENT)) {
      const value = m[3].trim();
      if (PLACEHOLDER.test(value) || DEMO_VALUES.has(value)) continue;
      // Names of env variables, headers and such are not values: ALL_CAPS_WITH_UNDERSCORES, kebab words, dotted paths.
      if (/^[A-Z][A-Z0-9_]*$/.test(value) || /^[a-z]+(?:[-_.][a-z]+)*$/.test(value)) continue;
      // Code and prose, not a literal: interpolations, spaces.
      if (/\$\{|\s/.test(value)) continue;
      findings.push({ file: path, line: i + 1, what: `secret-looking literal ${m[1]}=${value.slice(0, 6)}…` });
    }
  });
  return findings;
}

describe('no secrets in the repository', () => {
  it('finds no private key, provider token, JWT, URL password or secret literal outside the allow-list', () => {
    const findings: Finding[] = [];
    let scanned = 0;
    for (const path of repositoryFiles()) {
      const abs = resolve(root, path);
      let size = 0;
      try {
        size = statSync(abs).size;
      } catch {
        continue; // deleted in the working tree
      }
      if (size > 2_000_000) continue;
      const text = readFileSync(abs, 'utf8');
      if (text.includes('\u0000')) continue;
      scanned++;
      findings.push(...scan(path, text));
    }
    expect(scanned).toBeGreaterThan(500);
    expect(findings.map((f) => `${f.file}:${f.line} ${f.what}`)).toEqual([]);
  });

  it('catches what it is meant to catch', () => {
    const key = ['-----BEGIN', 'PRIVATE KEY-----'].join(' ');
    expect(scan('src/a.ts', key).map((f) => f.what)).toEqual(['private key']);
    expect(scan('test/a.ts', key).map((f) => f.what)).toEqual(['private key']);
    expect(scan('src/a.ts', `const url = 'postgres://app:${'s3cr3t'}@db:5432/x'`)).toHaveLength(1);
    expect(scan('src/a.ts', `const url = 'postgres://app:\${PGPASSWORD}@db:5432/x'`)).toHaveLength(0);
    expect(scan('src/a.ts', `clientSecret: '${'q8Zr2Lk9'}'`)).toHaveLength(1);
    expect(scan('src/a.ts', `password: 'demo'`)).toHaveLength(0);
    expect(scan('src/a.ts', `secretEnv: 'DINGTALK_ROBOT_SECRET'`)).toHaveLength(0);
    expect(scan('src/a.spec.ts', `secret: '${'hook-secret-1'}'`)).toHaveLength(0);
    expect(scan('src/a.ts', `${'AKIA'}ABCDEFGHIJKLMNOP`)).toHaveLength(1);
  });
});
