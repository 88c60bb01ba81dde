import { startSmtpSink } from '../../services/notification/test/fakes/smtp.fake-server';
import type { StartedFake } from './fake';

/** A local SMTP sink (smtp-server, AUTH required) on 4126 for `npm start`; inbox at http://127.0.0.1:4127/__inbox. */
export default async function start(): Promise<StartedFake> {
  const sink = await startSmtpSink({ user: 'flowline', pass: 'demo-smtp-secret', port: 4126, httpPort: 4127 });
  return {
    name: 'smtp',
    env: { SMTP_URL: sink.smtpUrl(), MAIL_FROM: 'Flowline <notify@flowline.example>', SMTP_INBOX_URL: `${sink.inbox.url}/__inbox` },
    close: () => sink.close(),
  };
}
