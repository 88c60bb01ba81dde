import { createRequire } from 'node:module';
import type Handlebars from 'handlebars';
import type { Transporter } from 'nodemailer';
import type { SendOutcome } from '../../domain/delivery.policy';
import type { ChannelAdapter, OutgoingMessage } from './channel.port';

export interface EmailConfig {
  /** smtp://user:pass@host:port (the local smtp-server sink in tests and `npm start`). */
  url: string;
  from: string;
  /** Handlebars HTML layout (`emailLayout` in config/templates.yaml): subject, body, footer, lang. */
  layout: string;
}

const load = createRequire(__filename);

const FOOTER: Record<string, string> = { 'zh-CN': '此邮件为服务通知，请勿直接回复。', en: 'This is a service notification; please do not reply.' };

/** E-mail through nodemailer (SMTP). HTML from the Handlebars layout (escaped values), plain text alongside. */
export class EmailAdapter implements ChannelAdapter {
  readonly channel = 'email' as const;
  // nodemailer and handlebars are required on the first message or preview, not at boot: together
  // ~1.3 MB of source (~4 MiB of heap) in a process that may never send an e-mail (issue #10 item 6).
  private transportInstance?: Transporter;
  private layoutInstance?: HandlebarsTemplateDelegate;

  constructor(private readonly config: EmailConfig) {}

  private get transport(): Transporter {
    return (this.transportInstance ??= (load('nodemailer') as typeof import('nodemailer')).createTransport(this.config.url));
  }

  private get layout(): HandlebarsTemplateDelegate {
    return (this.layoutInstance ??= (load('handlebars') as typeof Handlebars).compile(this.config.layout));
  }

  /** The HTML body of a message (also used by the preview endpoint). */
  html(subject: string, text: string, locale: string): string {
    return this.layout({ subject, body: text, footer: FOOTER[locale] ?? FOOTER['zh-CN'], lang: locale });
  }

  async send(m: OutgoingMessage): Promise<SendOutcome> {
    if (m.message.kind !== 'email') return { ok: false, transient: false, code: 'WRONG_MESSAGE_KIND', message: `email needs an e-mail message, got ${m.message.kind}` };
    try {
      const info = await this.transport.sendMail({
        from: this.config.from,
        to: m.address,
        subject: m.message.subject,
        text: m.message.text,
        html: this.html(m.message.subject, m.message.text, m.locale),
        messageId: `<${m.notificationId}@notification.flowline>`,
        headers: { 'X-Flowline-Notification': m.notificationId },
      });
      return { ok: true, providerMessageId: info.messageId };
    } catch (e) {
      const err = e as { responseCode?: number; code?: string; message?: string };
      // 4xx SMTP replies and connection errors are temporary; 5xx (bad mailbox, auth refused) are not.
      const transient = err.responseCode === undefined ? err.code !== 'EAUTH' : err.responseCode < 500;
      return { ok: false, transient, code: err.responseCode ? `SMTP_${err.responseCode}` : (err.code ?? 'SMTP'), message: err.message ?? String(e) };
    }
  }

  close(): void {
    this.transportInstance?.close();
  }
}
