import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abilityFor } from './policy';
import { InvalidTokenError, TokenVerifier, VERIFIED_TOKEN_TTL_MS } from './verifier';

const ISSUER = 'http://issuer.test';

describe('TokenVerifier keeps a verified token for a while (a client sends the same token on every request)', () => {
  let server: Server;
  let jwksUri: string;
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const token = (expiresInSec: number, claims: Record<string, unknown> = { roles: ['admin'] }) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience('flowline')
      .setSubject('u-1')
      .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSec)
      .sign(privateKey);

  function verifier(clock: { t: number }) {
    return new TokenVerifier({ issuers: [{ issuer: ISSUER, jwksUri, discover: false }], audience: 'flowline', clockToleranceSec: 0 }, undefined, () => clock.t);
  }

  it('answers the same token again with the same (frozen) principal, without a second signature check, and its ability is built once', async () => {
    const clock = { t: Date.now() };
    const v = verifier(clock);
    const t = await token(600);
    const first = await v.verify(t);
    const second = await v.verify(t);
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.roles)).toBe(true);
    expect(abilityFor(second)).toBe(abilityFor(first));
  });

  it(`checks the token again after ${VERIFIED_TOKEN_TTL_MS} ms, and never serves it from memory past its exp`, async () => {
    const clock = { t: Date.now() };
    const v = verifier(clock);
    const long = await token(600);
    const first = await v.verify(long);
    clock.t += VERIFIED_TOKEN_TTL_MS + 1;
    const again = await v.verify(long);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);

    const short = await token(5);
    const s1 = await v.verify(short);
    clock.t += 6_000; // past its exp (tolerance 0): not from memory
    const s2 = await v.verify(short);
    expect(s2).not.toBe(s1);
  });

  it('does not keep refusals: a bad token is refused every time', async () => {
    const v = verifier({ t: Date.now() });
    const good = await token(600);
    const forged = `${good.slice(0, good.lastIndexOf('.'))}.${'A'.repeat(86)}`;
    await expect(v.verify(forged)).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(v.verify(forged)).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(v.verify(await token(-60))).rejects.toThrow('token expired');
  });
});
