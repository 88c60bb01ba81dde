import { inScope, type Principal } from '@flowline/auth';
import { DomainError } from '@flowline/domain';
import type { Pool } from 'pg';
import type { ChannelKind } from '../domain/notification.types';
import { templateVars } from '../domain/template-vars';
import { renderMessage, TemplateError, type Locale, type RenderedMessage } from '../domain/templates';
import type { NotificationConfig } from '../infra/notification-config';
import { NotificationStore } from '../infra/notification-store';

export interface PreviewRequest {
  template: string;
  channel: ChannelKind;
  locale: Locale;
  orderId: string;
  event?: { type: string; data?: Record<string, unknown>; occurredAt?: string };
}

export interface PreviewResult {
  template: string;
  templateVersion: number | undefined;
  locale: Locale;
  channel: ChannelKind;
  message: RenderedMessage;
  html?: string;
}

/**
 * Renders a template against a real order's facts (REST and gRPC share it). Nothing is sent. An
 * order outside the caller's shops answers as one notification has not seen (ADR 0018).
 */
export async function previewTemplate(deps: { pool: Pool; config: NotificationConfig; now: string; principal: Principal; html?: (subject: string, text: string, locale: string) => string }, req: PreviewRequest): Promise<PreviewResult> {
  const facts = await NotificationStore.facts(deps.pool, req.orderId);
  if (!facts || !inScope(deps.principal, { shopId: facts.shopId ?? null, orderId: req.orderId })) throw new DomainError('ORDER_NOT_KNOWN', `order ${req.orderId} has not been seen by notification`, { orderId: req.orderId }, 'not_found');
  const trigger = { eventId: 'preview', type: req.event?.type ?? 'Preview', occurredAt: req.event?.occurredAt ?? deps.now, data: { orderId: req.orderId, ...(req.event?.data ?? {}) } };
  try {
    const message = renderMessage(deps.config.templates, req.template, req.channel, req.locale, templateVars(trigger, facts, { approver: '（审批人）' }));
    const html = message.kind === 'email' && deps.html ? deps.html(message.subject, message.text, req.locale) : undefined;
    return { template: req.template, templateVersion: deps.config.templates.templates[req.template]?.version, locale: req.locale, channel: req.channel, message, ...(html ? { html } : {}) };
  } catch (e) {
    if (e instanceof TemplateError) throw new DomainError(e.code, e.message, { field: 'template' }, e.code === 'TEMPLATE_NOT_FOUND' ? 'not_found' : 'invalid');
    throw e;
  }
}
