import { createHmac } from 'node:crypto';
import type { SendOutcome } from '../../domain/delivery.policy';
import { networkFailure, postJson, type ChannelAdapter, type OutgoingMessage } from './channel.port';

export interface RobotEndpoint {
  /** Full webhook URL including access_token (DingTalk) or key (WeCom). */
  url: string;
  /** DingTalk "加签" secret (SEC...). */
  secret?: string;
}

/** DingTalk robot signature: urlencode(base64(HMAC-SHA256(secret, timestamp + "\n" + secret))). */
export function dingtalkSign(secret: string, timestamp: number): string {
  return encodeURIComponent(createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64'));
}

// 130101: sending too fast (the robot's 20/min); -1 / 5xx: busy. 310000: sign / keyword / IP refused.
const TRANSIENT = new Set([130101, -1]);

/** DingTalk custom robot, markdown messages, signed. `address` is the robot's name in staff.yaml. */
export class DingtalkRobotAdapter implements ChannelAdapter {
  readonly channel = 'dingtalk' as const;
  constructor(
    private readonly robots: (name: string) => RobotEndpoint | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async send(m: OutgoingMessage): Promise<SendOutcome> {
    if (m.message.kind !== 'robot') return { ok: false, transient: false, code: 'WRONG_MESSAGE_KIND', message: `dingtalk needs robot text, got ${m.message.kind}` };
    const robot = this.robots(m.address);
    if (!robot) return { ok: false, transient: false, code: 'ROBOT_NOT_CONFIGURED', message: `no URL for DingTalk robot ${m.address}` };
    let url = robot.url;
    if (robot.secret) {
      const ts = this.now();
      url += `${url.includes('?') ? '&' : '?'}timestamp=${ts}&sign=${dingtalkSign(robot.secret, ts)}`;
    }
    try {
      const r = await postJson(url, { msgtype: 'markdown', markdown: { title: m.message.title, text: m.message.text } });
      const errcode = Number(r.json?.errcode ?? (r.status === 200 ? 0 : -1));
      if (r.status === 200 && errcode === 0) return { ok: true, delivered: true };
      return { ok: false, transient: r.status >= 500 || TRANSIENT.has(errcode), code: String(errcode), message: String(r.json?.errmsg ?? r.text.slice(0, 200)) };
    } catch (e) {
      return networkFailure(e);
    }
  }
}

/** WeCom (企业微信) group robot: POST markdown to the webhook URL with its key. */
export class WecomRobotAdapter implements ChannelAdapter {
  readonly channel = 'wecom' as const;
  constructor(private readonly robots: (name: string) => RobotEndpoint | undefined) {}

  async send(m: OutgoingMessage): Promise<SendOutcome> {
    if (m.message.kind !== 'robot') return { ok: false, transient: false, code: 'WRONG_MESSAGE_KIND', message: `wecom needs robot text, got ${m.message.kind}` };
    const robot = this.robots(m.address);
    if (!robot) return { ok: false, transient: false, code: 'ROBOT_NOT_CONFIGURED', message: `no URL for WeCom robot ${m.address}` };
    try {
      const r = await postJson(robot.url, { msgtype: 'markdown', markdown: { content: `**${m.message.title}**\n${m.message.text}` } });
      const errcode = Number(r.json?.errcode ?? (r.status === 200 ? 0 : -1));
      if (r.status === 200 && errcode === 0) return { ok: true, delivered: true };
      // 45009: API frequency limit; -1: system busy.
      return { ok: false, transient: r.status >= 500 || errcode === 45009 || errcode === -1, code: String(errcode), message: String(r.json?.errmsg ?? r.text.slice(0, 200)) };
    } catch (e) {
      return networkFailure(e);
    }
  }
}
