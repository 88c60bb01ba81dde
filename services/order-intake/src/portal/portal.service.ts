import { Logger } from '@nestjs/common';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { ulid } from 'ulid';
import type { Pool } from 'pg';
import type { PgOrderStore } from '../infra/pg-order-store';
import { codeHashOf, customerIdOf, judgeAttempt, newCode, normalizePhone, sameMac } from './otp';
import type { PortalConfig } from './portal.config';
import type { PortalKeys } from './portal-keys';
import type { PortalStore } from './portal.store';
import type { PortalSmsSender } from './sms.sender';

const LINK_AUDIENCE = 'flowline-portal-link';
const LINK_TYPE = 'portal-link+jwt';

/** A minted customer token, as the session endpoints answer it (OAuth token response shape). */
export interface CustomerSession {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  /** The order ids the token opens. */
  orders: string[];
}

/** The one refusal of a session request, whatever went wrong (no enumeration, no lock oracle). */
export class PortalRefused extends Error {
  constructor() {
    super('the code, order number or phone is not right, the code expired, or too many tries: ask for a new code');
  }
}

const sleepUntil = (t: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, t - Date.now())));

/**
 * The customer portal's identity: one-time codes by SMS, signed links, customer tokens (ES256,
 * order-intake's own key, `roles: ["customer"]`, `orders` = the orders the customer proved).
 */
export class PortalService {
  private readonly log = new Logger('portal');
  private readonly publicKey: KeyObject;

  constructor(
    private readonly config: PortalConfig,
    private readonly keys: PortalKeys,
    private readonly store: PortalStore,
    private readonly orders: Pick<PgOrderStore, 'load'>,
    private readonly pool: Pool,
    private readonly sms: PortalSmsSender,
  ) {
    this.publicKey = createPublicKey(keys.privateKey);
  }

  /** The public JWKS (`/portal/.well-known/jwks.json`). */
  jwks(): { keys: Record<string, string>[] } {
    return { keys: [this.keys.publicJwk] };
  }

  /**
   * Asks for a code. Always the same answer, and no sooner than `otpMinResponseMs`, whether the
   * order exists, the phone matches or the order is locked; the SMS goes out after the answer.
   */
  async requestCode(orderNo: string, phone: string): Promise<void> {
    const answerAt = Date.now() + this.config.otpMinResponseMs;
    const customerId = customerIdOf(this.keys.secret, phone);
    let send: (() => Promise<void>) | undefined;
    try {
      const orderId = await this.matchOrder(orderNo, customerId);
      if (orderId) {
        const code = newCode();
        if (await this.store.putChallenge(orderId, customerId, codeHashOf(this.keys.secret, orderId, code), this.config.otpTtlMs)) {
          const link = await this.signLink(orderId, customerId);
          const text = `【Flowline】订单验证码 ${code}，${Math.round(this.config.otpTtlMs / 60_000)} 分钟内有效，请勿告诉他人。也可打开 ${link}`;
          send = () => this.sms.send(normalizePhone(phone), text, { orderId, purpose: 'portal-otp' });
        } else {
          this.log.warn(`portal code refused for a locked order ${orderId}`);
        }
      }
    } catch (error) {
      // Same answer on failure too; the reason goes to the log only.
      this.log.error(`portal code request failed: ${(error as Error).message}`);
    }
    await sleepUntil(answerAt);
    if (send) void send().catch((error: unknown) => this.log.error(`portal code SMS not sent: ${(error as Error).message}`));
  }

  /** Trades order number + phone + code for a customer token; PortalRefused for every failure. */
  async openSession(orderNo: string, phone: string, code: string): Promise<CustomerSession> {
    const customerId = customerIdOf(this.keys.secret, phone);
    // A wrong phone still spends a try of the order it names (phone guessing is counted too).
    const orderId = (await this.orderIdOf(orderNo, customerId)) ?? (await this.candidates(orderNo))[0] ?? orderNo;
    const counted = await this.store.countAttempt(orderId);
    const given = { customerId, codeHash: codeHashOf(this.keys.secret, orderId, code) };
    const verdict = judgeAttempt(counted, given, Date.now(), this.config.maxAttempts);
    if (!verdict.ok) {
      if (verdict.lockNow) await this.store.lock(orderId, this.config.lockMs);
      this.log.warn(`portal session refused (${verdict.reason}) attempt ${counted?.attempts ?? 0}`);
      throw new PortalRefused();
    }
    // A code opens one session: two concurrent tries with it get one token.
    if (!(await this.store.consume(orderId, given.codeHash))) throw new PortalRefused();
    return this.mint(customerId, orderId, 'otp');
  }

  /** Trades a signed link (from the SMS) for a customer token. */
  async openSessionWithLink(token: string): Promise<CustomerSession> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.verifyKey(), { issuer: this.config.issuer, audience: LINK_AUDIENCE, typ: LINK_TYPE, algorithms: ['ES256'] }));
    } catch {
      throw new PortalRefused();
    }
    const orderId = typeof payload.order === 'string' ? payload.order : undefined;
    if (!orderId || typeof payload.sub !== 'string') throw new PortalRefused();
    return this.mint(payload.sub, orderId, 'link');
  }

  /** A signed, expiring link for an order's customer (in the code SMS; for templates through the API too). */
  async signLink(orderId: string, customerId: string): Promise<string> {
    const jwt = await new SignJWT({ order: orderId })
      .setProtectedHeader({ alg: 'ES256', kid: this.keys.kid, typ: LINK_TYPE })
      .setIssuer(this.config.issuer)
      .setAudience(LINK_AUDIENCE)
      .setSubject(customerId)
      .setIssuedAt()
      .setExpirationTime(`${this.config.linkTtlSec}s`)
      .setJti(ulid())
      .sign(await this.key());
    return `${this.config.linkBaseUrl}?t=${jwt}`;
  }

  /** A link for an order's own customer, found from the order's phone (staff / services asking for a notification). */
  async linkForOrder(orderId: string): Promise<{ url: string; expiresInSec: number } | undefined> {
    const phone = await this.phonesOf(orderId);
    if (!phone.length) return undefined;
    return { url: await this.signLink(orderId, customerIdOf(this.keys.secret, phone[0])), expiresInSec: this.config.linkTtlSec };
  }

  private async mint(customerId: string, orderId: string, by: 'otp' | 'link'): Promise<CustomerSession> {
    const orders = await this.store.proveOrder(customerId, orderId, by);
    const accessToken = await new SignJWT({ roles: ['customer'], orders, client_id: 'flowline-portal' })
      .setProtectedHeader({ alg: 'ES256', kid: this.keys.kid, typ: 'at+jwt' })
      .setIssuer(this.config.issuer)
      .setAudience(this.config.audience)
      .setSubject(customerId)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime(`${this.config.tokenTtlSec}s`)
      .setJti(ulid())
      .sign(await this.key());
    return { access_token: accessToken, token_type: 'Bearer', expires_in: this.config.tokenTtlSec, orders };
  }

  /** The order an order number names whose phone is this customer's; undefined otherwise. */
  private async matchOrder(orderNo: string, customerId: string): Promise<string | undefined> {
    return this.orderIdOf(orderNo, customerId);
  }

  private async orderIdOf(orderNo: string, customerId: string): Promise<string | undefined> {
    const candidates = await this.candidates(orderNo);
    for (const orderId of candidates) {
      for (const phone of await this.phonesOf(orderId)) {
        if (sameMac(customerIdOf(this.keys.secret, phone), customerId)) return orderId;
      }
    }
    return undefined;
  }

  /** The order id itself and the orders whose channel order number it is (several channels may share one). */
  private async candidates(orderNo: string): Promise<string[]> {
    const r = await this.pool.query<{ order_id: string }>(
      `SELECT order_id FROM order_summaries WHERE order_id = $1
       UNION SELECT order_id FROM order_channel_claims WHERE channel_order_id = $1 LIMIT 10`,
      [orderNo],
    );
    return r.rows.map((x) => x.order_id);
  }

  /** The clear phones of an order (customer and recipient), from its stream. */
  private async phonesOf(orderId: string): Promise<string[]> {
    const { state } = await this.orders.load(orderId);
    if (state.status === 'none') return [];
    const o = state.order;
    return [o.customer?.phone, o.shippingAddress?.phone].filter((p): p is string => typeof p === 'string' && normalizePhone(p).length >= 6);
  }

  private async key(): Promise<KeyObject> {
    return this.keys.privateKey;
  }

  private async verifyKey(): Promise<KeyObject> {
    return this.publicKey;
  }
}
