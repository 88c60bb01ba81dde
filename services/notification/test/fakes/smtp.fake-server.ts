import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { FakeHttpServer } from './fake-http';

/** Decodes RFC 2047 encoded words (=?UTF-8?B?...?= / ?Q?) as nodemailer writes non-ASCII subjects. */
export function decodeMimeWords(s: string): string {
  return s.replace(/\s*=\?([^?]+)\?([BbQq])\?([^?]*)\?=\s*/g, (_m, _charset: string, enc: string, text: string) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
  );
}

function header(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

export interface SmtpSink {
  smtpUrl: (user?: string, pass?: string) => string;
  /** HTTP inbox of what was received (same shape as the other fakes). */
  inbox: FakeHttpServer;
  close(): Promise<void>;
}

/**
 * A local SMTP sink (smtp-server): AUTH PLAIN/LOGIN required, a wrong password is refused with 535;
 * each accepted message is recorded (from, to, subject, raw size, whether it has an HTML part).
 */
export async function startSmtpSink(options: { user: string; pass: string; port?: number; httpPort?: number }): Promise<SmtpSink> {
  const inbox = new FakeHttpServer('smtp', () => ({ status: 404, json: { error: 'SMTP sink: only /__inbox over HTTP' } }));
  const server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === options.user && auth.password === options.pass) return cb(null, { user: auth.username });
      inbox.record({ accepted: false, reason: `535 authentication failed for ${auth.username}` });
      const e = new Error('Invalid username or password') as Error & { responseCode: number };
      e.responseCode = 535;
      return cb(e);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        inbox.record({
          accepted: true,
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: decodeMimeWords(header(raw, 'Subject') ?? ''),
          notificationId: header(raw, 'X-Flowline-Notification') ?? null,
          html: /content-type:\s*text\/html/i.test(raw),
          bytes: raw.length,
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(options.port ?? 0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  await inbox.start(options.httpPort ?? 0);
  return {
    smtpUrl: (user = options.user, pass = options.pass) => `smtp://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@127.0.0.1:${port}`,
    inbox,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await inbox.close();
    },
  };
}
