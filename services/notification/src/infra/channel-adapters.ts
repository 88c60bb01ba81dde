import { hasSecret, liveSecret } from '@flowline/platform';
import type { Pool } from 'pg';
import type { ChannelKind, StaffDirectory } from '../domain/notification.types';
import { AliyunSmsAdapter } from './channels/aliyun-sms.adapter';
import type { ChannelAdapter } from './channels/channel.port';
import { DingtalkRobotAdapter, WecomRobotAdapter, type RobotEndpoint } from './channels/dingtalk-robot.adapter';
import { EmailAdapter } from './channels/email.adapter';
import { WebhookAdapter } from './channels/webhook.adapter';
import { WechatAdapter } from './channels/wechat.adapter';
import { PgWechatTokenCache } from './wechat-token.store';

/**
 * Builds the adapters the environment configures (a channel without its variables has no adapter:
 * its notifications fail with CHANNEL_NOT_CONFIGURED, visibly, instead of the service not booting).
 * Secrets come from the environment only.
 */
export function channelAdaptersFromEnv(pool: Pool, staff: () => StaffDirectory, emailLayout: string, env: NodeJS.ProcessEnv = process.env): { adapters: Partial<Record<ChannelKind, ChannelAdapter>>; email?: EmailAdapter } {
  const adapters: Partial<Record<ChannelKind, ChannelAdapter>> = {};
  if (env.ALIYUN_SMS_URL && env.ALIYUN_SMS_ACCESS_KEY_ID && env.ALIYUN_SMS_ACCESS_KEY_SECRET) {
    adapters.sms = new AliyunSmsAdapter({
      endpoint: env.ALIYUN_SMS_URL,
      accessKeyId: env.ALIYUN_SMS_ACCESS_KEY_ID,
      accessKeySecret: env.ALIYUN_SMS_ACCESS_KEY_SECRET,
      signName: env.ALIYUN_SMS_SIGN_NAME ?? 'Flowline',
      templateCode: env.ALIYUN_SMS_TEMPLATE_CODE ?? 'SMS_FLOWLINE_NOTICE',
    });
  }
  if (env.WECHAT_API_URL) {
    const tokens = new PgWechatTokenCache(pool);
    if (env.WECHAT_OA_APPID && env.WECHAT_OA_SECRET) adapters.wechat_template = new WechatAdapter('wechat_template', env.WECHAT_API_URL, { appId: env.WECHAT_OA_APPID, appSecret: env.WECHAT_OA_SECRET }, tokens);
    if (env.WECHAT_MP_APPID && env.WECHAT_MP_SECRET) adapters.wechat_subscribe = new WechatAdapter('wechat_subscribe', env.WECHAT_API_URL, { appId: env.WECHAT_MP_APPID, appSecret: env.WECHAT_MP_SECRET }, tokens);
  }
  let email: EmailAdapter | undefined;
  if (env.SMTP_URL) {
    email = new EmailAdapter({ url: env.SMTP_URL, from: env.MAIL_FROM ?? 'Flowline <notify@flowline.example>', layout: emailLayout });
    adapters.email = email;
  }
  const robot = (kind: 'dingtalk' | 'wecom') => (name: string): RobotEndpoint | undefined => {
    const r = staff().robots[name];
    const url = r?.kind === kind ? env[r.urlEnv] : undefined;
    if (!r || !url) return undefined;
    // Read per send: <NAME>_FILE (a mounted Secret) rotates without a restart.
    const secret = r.secretEnv ? liveSecret(r.secretEnv, { env }) : undefined;
    return { url, ...(secret ? { secret } : {}) };
  };
  adapters.dingtalk = new DingtalkRobotAdapter(robot('dingtalk'));
  adapters.wecom = new WecomRobotAdapter(robot('wecom'));
  adapters.webhook = new WebhookAdapter((name) => {
    const url = env[name];
    // Read per send: WEBHOOK_URL_SECRET_FILE (a mounted Secret) rotates without a restart.
    const secret = hasSecret(`${name}_SECRET`, env) ? liveSecret(`${name}_SECRET`, { env }) : undefined;
    return url && secret ? { url, secret } : undefined;
  });
  return { adapters, email };
}
