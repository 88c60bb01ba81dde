import { requirePrincipal, Requires, shopFilter } from '@flowline/auth';
import { Controller, Get, Header, Headers } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOperation, ApiTags } from '@nestjs/swagger';

/** Env variables naming each local fake's inbox (set by `npm start`'s fakes). */
const FAKE_INBOXES: [name: string, env: string][] = [
  ['aliyun-sms', 'ALIYUN_SMS_INBOX_URL'],
  ['wechat', 'WECHAT_INBOX_URL'],
  ['smtp', 'SMTP_INBOX_URL'],
  ['dingtalk', 'DINGTALK_INBOX_URL'],
  ['wecom', 'WECOM_INBOX_URL'],
  ['webhook', 'WEBHOOK_INBOX_URL'],
];

interface FakeInbox {
  name: string;
  url: string;
  received: Record<string, unknown>[];
  refused: Record<string, unknown>[];
  error?: string;
}

/**
 * What the fakes hold, for this caller. A fake keeps no shop with a message, so a shop-limited
 * caller (ADR 0018) sees each fake with none of its messages rather than other shops' texts.
 */
async function readInboxes(headers: object): Promise<FakeInbox[]> {
  const limited = shopFilter(requirePrincipal(headers)) !== undefined;
  const out: FakeInbox[] = [];
  for (const [name, env] of FAKE_INBOXES) {
    const url = process.env[env];
    if (!url) continue;
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      const j = (await r.json()) as { received?: Record<string, unknown>[]; refused?: Record<string, unknown>[] };
      out.push({ name, url, received: limited ? [] : (j.received ?? []), refused: limited ? [] : (j.refused ?? []) });
    } catch (e) {
      out.push({ name, url, received: [], refused: [], error: (e as Error).message });
    }
  }
  return out;
}

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

/** Demo: what each local fake (SMS, WeChat, SMTP, robots, webhook) received, as JSON and as a page. */
@ApiTags('demo')
@Requires('read', 'Notification')
@Controller('demo')
export class InboxController {
  @Get('inbox')
  @ApiOperation({ summary: 'What every local fake received and refused (npm start)' })
  async inbox(@Headers() h: Record<string, string | undefined>) {
    return { fakes: await readInboxes(h) };
  }

  @Get('inbox.html')
  @Header('content-type', 'text/html; charset=utf-8')
  @ApiExcludeEndpoint()
  async page(@Headers() h: Record<string, string | undefined>): Promise<string> {
    const fakes = await readInboxes(h);
    const section = (f: FakeInbox) => `<h2>${esc(f.name)} <small>${f.received.length} received, ${f.refused.length} refused</small></h2>
${f.error ? `<p class="err">${esc(f.error)}</p>` : ''}<table><tr><th>at</th><th>message</th></tr>
${[...f.received].reverse().map((r) => `<tr><td>${esc(r.at)}</td><td><pre>${esc(JSON.stringify({ ...r, at: undefined, accepted: undefined }, null, 1))}</pre></td></tr>`).join('\n')}
${[...f.refused].reverse().map((r) => `<tr class="refused"><td>${esc(r.at)}</td><td>refused: ${esc(r.reason)}</td></tr>`).join('\n')}</table>`;
    return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>Flowline notification inbox</title>
<style>body{font-family:-apple-system,'PingFang SC',sans-serif;margin:24px}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:4px 8px;text-align:left;vertical-align:top}pre{margin:0;white-space:pre-wrap}.refused{color:#b00}.err{color:#b00}</style></head>
<body><h1>Notification inbox (local fakes)</h1>${fakes.length ? fakes.map(section).join('\n') : '<p>No fakes configured (run <code>npm start</code>).</p>'}</body></html>`;
  }
}
