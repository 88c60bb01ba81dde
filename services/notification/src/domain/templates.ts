import { IntlMessageFormat } from 'intl-messageformat';
import type { ChannelKind } from './notification.types';
import { limitWechatFields } from './wechat-fields';

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

export interface LocaleTemplate {
  sms?: string;
  wechat?: { templateId: string; page?: string; fields: Record<string, string> };
  email?: { subject: string; body: string };
  robot?: { title: string; text: string };
}

export interface MessageTemplate {
  version: number;
  /** Only `service` messages are sent by this service; marketing is kept apart (elsewhere, with its own consent). */
  category: 'service';
  locales: Partial<Record<Locale, LocaleTemplate>>;
}

export interface TemplateCatalogue {
  version: string;
  /** HTML e-mail layout (Handlebars): subject, body, footer, lang. */
  emailLayout?: string;
  templates: Record<string, MessageTemplate>;
}

/** A message ready for an adapter. Plain JSON: it is stored with the notification. */
export type RenderedMessage =
  | { kind: 'text'; text: string }
  | { kind: 'wechat'; templateId: string; page?: string; fields: Record<string, string> }
  | { kind: 'email'; subject: string; text: string }
  | { kind: 'robot'; title: string; text: string };

/** Template variables: strings and numbers, dates as ISO strings (rendered in Asia/Shanghai). */
export type TemplateVars = Record<string, string | number | null | undefined>;

export const DISPLAY_TIME_ZONE = 'Asia/Shanghai';
const DATE_KEYS = /(At|Date)$|^at$/;

export class TemplateError extends Error {
  constructor(
    readonly code: 'TEMPLATE_NOT_FOUND' | 'TEMPLATE_CHANNEL_MISSING' | 'TEMPLATE_INVALID',
    message: string,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

function formatsFor(currency: string) {
  return {
    number: { money: { style: 'currency' as const, currency, minimumFractionDigits: 2, maximumFractionDigits: 2 } },
    date: {
      dt: { timeZone: DISPLAY_TIME_ZONE, year: 'numeric' as const, month: '2-digit' as const, day: '2-digit' as const, hour: '2-digit' as const, minute: '2-digit' as const, hourCycle: 'h23' as const },
    },
  };
}

/**
 * Compiled messages by locale, currency and text (issue #10: every field of every message was
 * parsed again, and its number and date formatters built again, per send). Keyed by the text
 * itself, so a changed template is a new entry, never a stale one; bounded, because the currency
 * comes from events.
 */
const compiled = new Map<string, IntlMessageFormat>();
const COMPILED_MAX = 2_000;

function compiledFor(message: string, locale: Locale, currency: string): IntlMessageFormat {
  const key = `${locale}\u0000${currency}\u0000${message}`;
  let m = compiled.get(key);
  if (!m) {
    m = new IntlMessageFormat(message, locale, formatsFor(currency));
    if (compiled.size >= COMPILED_MAX) compiled.clear();
    compiled.set(key, m);
  }
  return m;
}

/** Formats one ICU message. Date-named variables (`paidAt`, `deliveredAt`, `at`) are parsed from ISO strings. */
export function formatIcu(message: string, locale: Locale, vars: TemplateVars): string {
  const currency = typeof vars.currency === 'string' && vars.currency ? vars.currency : 'CNY';
  const values: Record<string, string | number | Date> = {};
  for (const [k, v] of Object.entries(vars)) {
    if (v === null || v === undefined) continue;
    values[k] = DATE_KEYS.test(k) && typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v) : v;
  }
  try {
    const out = compiledFor(message, locale, currency).format(values);
    return typeof out === 'string' ? out : String(out);
  } catch (e) {
    throw new TemplateError('TEMPLATE_INVALID', `cannot format "${message.slice(0, 40)}": ${(e as Error).message}`);
  }
}

/** Which part of a template a channel uses. */
export function sectionOf(channel: ChannelKind): keyof LocaleTemplate {
  switch (channel) {
    case 'sms':
      return 'sms';
    case 'wechat_template':
    case 'wechat_subscribe':
      return 'wechat';
    case 'email':
      return 'email';
    case 'dingtalk':
    case 'wecom':
    case 'webhook':
      return 'robot';
  }
}

/** Money variables hold yuan (fen / 100) so ICU's currency format prints ¥128.00 from 12800 fen. */
export function yuanFromFen(fen: number): number {
  return fen / 100;
}

/** Renders a template for one channel and locale (falls back to zh-CN when the locale has no text). */
export function renderMessage(catalogue: TemplateCatalogue, templateName: string, channel: ChannelKind, locale: Locale, vars: TemplateVars): RenderedMessage {
  const template = catalogue.templates[templateName];
  if (!template) throw new TemplateError('TEMPLATE_NOT_FOUND', `no template "${templateName}"`);
  const section = sectionOf(channel);
  const chosen = template.locales[locale]?.[section] !== undefined ? locale : 'zh-CN';
  const t = template.locales[chosen];
  const f = (m: string) => formatIcu(m, chosen, vars);
  switch (section) {
    case 'sms':
      if (t?.sms === undefined) break;
      return { kind: 'text', text: f(t.sms) };
    case 'wechat': {
      if (!t?.wechat) break;
      const fields = Object.fromEntries(Object.entries(t.wechat.fields).map(([k, m]) => [k, f(m)]));
      return { kind: 'wechat', templateId: t.wechat.templateId, ...(t.wechat.page ? { page: t.wechat.page } : {}), fields: limitWechatFields(fields) };
    }
    case 'email':
      if (!t?.email) break;
      return { kind: 'email', subject: f(t.email.subject), text: f(t.email.body) };
    case 'robot':
      if (!t?.robot) break;
      return { kind: 'robot', title: f(t.robot.title), text: f(t.robot.text) };
  }
  throw new TemplateError('TEMPLATE_CHANNEL_MISSING', `template "${templateName}" has no ${section} text for ${channel}`);
}
