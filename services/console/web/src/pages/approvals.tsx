import type { OrderChangeDiff } from '@flowline/contracts';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App as AntApp, Button, Card, Form, Input, Modal, Select, Space, Table, Tabs, Tag, Typography } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { api, newIdempotencyKey, unwrapAs, type OrderView } from '../api';
import { EmptyText, ProblemAlert, useNotifyProblem } from '../components';
import { APPROVAL_CHAINS, APPROVAL_STATES, APPROVAL_STEP_STATES, APPROVAL_STEPS, APPROVER_ROLES, roleName, STAGES, useI18n, type UiKey } from '../i18n';
import { useSession } from '../session';
import { COLOUR_CSS } from './board';
import { ChangeDiffTable } from './change-diff';

interface InboxItem { approvalId: string; orderId: string; chain: string; kind: string; step: string; startedAt: string; dueAt: string; sla: 'green' | 'yellow' | 'red'; via: string[]; principals?: string[]; escalated?: boolean }
interface ApprovalStepView { step: string; role: string | null; status: string; attempt: number; slots: { original: string; principal: string; approvedBy: string | null }[]; escalatedTo: string | null; decidedBy: string | null; decidedAt: string | null; comment: string | null }
interface ApprovalView { approvalId: string; status: string; currentStep: string | null; requestedBy?: string | null; grandTotal: number | null; currency: string | null; steps: ApprovalStepView[]; change: { status: string; diff: OrderChangeDiff } | null; attachments?: { name: string; url: string }[] }
/** approval's GET /api/approvals/returned: returned for changes, waiting for a resubmission. */
interface ReturnedItem { approvalId: string; orderId: string; chain: string; kind: string; step: string; returnedBy: string | null; returnedAt: string | null; comment: string | null; requestedBy: string | null; requestedAt: string }
type Verb = 'approve' | 'reject' | 'return' | 'delegate';
const VERB_LABEL: Record<Verb, UiKey> = { approve: 'approve', reject: 'reject', return: 'returnForChanges', delegate: 'delegate' };
/** approval's DelegateDto `to` (ID_PATTERN of libs/platform). */
const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
type Post = (p: string, init: unknown) => Promise<{ data?: unknown; error?: unknown; response: Response }>;

/** Every list an approval decision moves an item between. */
function refreshApprovalLists(qc: ReturnType<typeof useQueryClient>, approvalId: string) {
  for (const key of ['inbox', 'approvals-pending', 'approvals-returned']) void qc.invalidateQueries({ queryKey: [key] });
  void qc.invalidateQueries({ queryKey: ['approval', approvalId] });
}

/**
 * People as the approval API names them: a role principal by the role's name, the logged-in user by
 * their name; anyone else by their user id (approval's views carry ids, not display names).
 */
function usePersonName() {
  const { pick } = useI18n();
  const session = useSession();
  return (who: string | null | undefined): string => {
    if (!who) return '—';
    if (who.startsWith('role:')) return pick(roleName(who.slice(5)));
    const id = who.replace(/^user:/, '');
    return id === session.user.subject && session.user.name ? session.user.name : id;
  };
}

/** Step and chain names in the user's language; ids a custom chain set adds show as they are. */
function useApprovalNames() {
  const { pick } = useI18n();
  return {
    stepName: (id: string) => (APPROVAL_STEPS[id] ? pick(APPROVAL_STEPS[id]) : id),
    chainName: (id: string) => (APPROVAL_CHAINS[id] ? pick(APPROVAL_CHAINS[id]) : id),
  };
}

/** My pending steps (by user and role), SLA colour, the order and the chain so far; approve / reject / return, bulk approve. */
export function ApprovalsPage() {
  const { t, time } = useI18n();
  const { stepName, chainName } = useApprovalNames();
  const session = useSession();
  const qc = useQueryClient();
  const notify = useNotifyProblem();
  const { message } = AntApp.useApp();
  const [selected, setSelected] = useState<React.Key[]>([]);
  const [tab, setTab] = useState('inbox');
  const [decision, setDecision] = useState<{ item: InboxItem; verb: Verb; key: string } | null>(null);
  const [form] = Form.useForm<{ comment: string; to: string }>();
  const inbox = useQuery({ queryKey: ['inbox', session.user.subject], queryFn: () => unwrapAs<{ items: InboxItem[] }>(api.approval.GET('/api/approvals/inbox', {} as never)), refetchInterval: 15_000 });
  const items = inbox.data?.items ?? [];
  const decide = useMutation({
    mutationFn: (v: { item: InboxItem; verb: Verb; key: string; comment: string; to?: string }) => {
      const post = api.approval.POST as unknown as Post;
      const body = v.verb === 'reject' ? { reason: v.comment }
        : v.verb === 'delegate' ? { to: (v.to ?? '').trim(), ...(v.comment.trim() ? { reason: v.comment.trim() } : {}) }
        : v.comment ? { comment: v.comment } : {};
      return unwrapAs<ApprovalView>(post(`/api/approvals/{approvalId}/steps/{step}/${v.verb}`, { params: { path: { approvalId: v.item.approvalId, step: v.item.step }, header: { 'Idempotency-Key': v.key } }, body }));
    },
    onSuccess: (_, v) => { setDecision(null); refreshApprovalLists(qc, v.item.approvalId); void message.success(t('done')); },
    onError: notify,
  });
  const bulk = useMutation({
    mutationFn: () => unwrapAs<{ approved: number; failed: number }>(api.approval.POST('/api/approvals/bulk-approve', {
      params: { header: { 'Idempotency-Key': newIdempotencyKey() } } as never,
      body: { items: items.filter((i) => selected.includes(`${i.approvalId}/${i.step}`)).map((i) => ({ approvalId: i.approvalId, step: i.step })) } as never,
    })),
    onSuccess: (r) => { setSelected([]); void qc.invalidateQueries({ queryKey: ['inbox'] }); void qc.invalidateQueries({ queryKey: ['approvals-pending'] }); void message.info(`${t('approve')}: ${r.approved} · ${t('failed')}: ${r.failed}`); },
    onError: notify,
  });
  const inboxPane = (
    <Space orientation="vertical" style={{ width: '100%' }}>
      {session.can('approval.decide') && <Button style={{ alignSelf: 'flex-start' }} disabled={!selected.length} loading={bulk.isPending} onClick={() => bulk.mutate()}>{t('bulkApprove')} ({selected.length})</Button>}
      <ProblemAlert error={inbox.error} />
      <Table<InboxItem>
        size="small"
        rowKey={(i) => `${i.approvalId}/${i.step}`}
        dataSource={items}
        pagination={false}
        locale={{ emptyText: <EmptyText /> }}
        rowSelection={session.can('approval.decide') ? { selectedRowKeys: selected, onChange: setSelected } : undefined}
        expandable={{ expandedRowRender: (i) => <ApprovalDetail approvalId={i.approvalId} orderId={i.orderId} /> }}
        columns={[
          { title: t('colour'), render: (_, i) => <Tag color={COLOUR_CSS[i.sla]} data-testid={`inbox-sla-${i.orderId}`}>{t(i.sla)}</Tag> },
          { title: t('orderId'), render: (_, i) => <Link to={`/orders/${i.orderId}`}>{i.orderId}</Link> },
          { title: t('chain'), render: (_, i) => chainName(i.chain) },
          { title: t('step'), render: (_, i) => stepName(i.step) },
          { title: t('due'), render: (_, i) => time(i.dueAt) },
          {
            title: t('actions'),
            render: (_, i) => session.can('approval.decide') ? (
              <Space>
                {(['approve', 'reject', 'return', 'delegate'] as const).map((verb) => (
                  <Button key={verb} size="small" type={verb === 'approve' ? 'primary' : 'default'} danger={verb === 'reject'} data-testid={`${verb}-${i.orderId}`}
                    onClick={() => { form.resetFields(); setDecision({ item: i, verb, key: newIdempotencyKey() }); }}>{t(VERB_LABEL[verb])}</Button>
                ))}
              </Space>
            ) : null,
          },
        ]}
      />
    </Space>
  );
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <Typography.Title level={2} style={{ margin: 0 }}>{t('approvals')}</Typography.Title>
      <Tabs activeKey={tab} onChange={setTab} items={[
        { key: 'inbox', label: <span data-testid="tab-inbox">{t('myInbox')}</span>, children: inboxPane },
        { key: 'returned', label: <span data-testid="tab-returned">{t('returnedTab')}</span>, children: <ReturnedList active={tab === 'returned'} /> },
        { key: 'all', label: <span data-testid="tab-all-pending">{t('allPending')}</span>, children: <AllPending active={tab === 'all'} /> },
      ]} />
      <Modal open={!!decision} title={decision ? `${t(VERB_LABEL[decision.verb])} · ${stepName(decision.item.step)}` : ''} okText={t('ok')} confirmLoading={decide.isPending}
        okButtonProps={{ 'data-testid': 'decision-confirm' } as never} onCancel={() => setDecision(null)}
        onOk={() => void form.validateFields().then((v) => decision && decide.mutate({ ...decision, comment: v.comment ?? '', ...(v.to ? { to: v.to } : {}) }), () => undefined)}>
        <Form form={form} layout="vertical">
          {decision?.verb === 'delegate' && (
            <>
              <Typography.Paragraph type="secondary">{t('delegateHint')}</Typography.Paragraph>
              <Form.Item name="to" label={t('delegateTo')} rules={[
                { required: true, whitespace: true, message: t('required') },
                { pattern: USER_ID, message: t('userIdFormat') },
                { validator: (_, v: unknown) => (typeof v === 'string' && v.trim() === session.user.subject ? Promise.reject(new Error(t('delegateSelf'))) : Promise.resolve()) },
              ]}>
                <Input data-testid="delegate-to" autoComplete="off" />
              </Form.Item>
            </>
          )}
          <Form.Item name="comment" label={t(decision?.verb === 'delegate' ? 'reason' : 'comment')} rules={[{ required: decision?.verb === 'reject' || decision?.verb === 'return' }]}>
            <Input.TextArea data-testid="decision-comment" rows={3} maxLength={decision?.verb === 'delegate' ? 300 : 1000} />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}

/**
 * One approval under its inbox / returned row: the order, every step with its state in words, who
 * decided it (or whom it waits for), and a change request's diff as a table.
 */
function ApprovalDetail({ approvalId, orderId }: { approvalId: string; orderId: string }) {
  const { t, pick, money, time } = useI18n();
  const { stepName } = useApprovalNames();
  const person = usePersonName();
  const order = useQuery({ queryKey: ['order', orderId], queryFn: () => unwrapAs<OrderView>(api.intake.GET('/api/orders/{orderId}', { params: { path: { orderId } } })) });
  const approval = useQuery({ queryKey: ['approval', approvalId], queryFn: () => unwrapAs<ApprovalView>(api.approval.GET('/api/approvals/{approvalId}' as never, { params: { path: { approvalId } } } as never)) });
  const o = order.data;
  const a = approval.data;
  const titles = Object.fromEntries((o?.lines ?? []).map((l) => [l.lineId, l.title]));
  // Decided: who decided. Active: whom it waits for now (delegates and the escalation target included).
  const who = (s: ApprovalStepView) => {
    if (s.status !== 'active') return person(s.decidedBy);
    const waiting = s.slots.filter((x) => !x.approvedBy).map((x) => x.principal);
    return [...new Set([...waiting, ...(s.escalatedTo ? [s.escalatedTo] : [])])].map(person).join(' / ');
  };
  return (
    <Card size="small" data-testid={`approval-detail-${orderId}`}>
      <ProblemAlert error={order.error ?? approval.error} />
      {o && (
        <Typography.Paragraph>
          {o.channelOrderId} · {pick(STAGES[o.stage])} · {money(o.totals.grandTotal, o.totals.currency)} · {o.lines.map((l) => `${l.title} x${l.quantity}`).join('，')}
          {o.attachments.length > 0 && <> · {o.attachments.map((x) => <a key={x} href={x} target="_blank" rel="noreferrer" style={{ marginInline: 4 }}>{x.split('/').pop()}</a>)}</>}
        </Typography.Paragraph>
      )}
      {a && (
        <Typography.Paragraph>
          <Tag data-testid={`approval-status-${orderId}`}>{APPROVAL_STATES[a.status] ? pick(APPROVAL_STATES[a.status]) : a.status}</Tag>
          {a.requestedBy && <>{t('requestedBy')}：{person(a.requestedBy)}</>}
        </Typography.Paragraph>
      )}
      {a && (
        <Table<ApprovalStepView> size="small" rowKey="step" pagination={false} dataSource={a.steps}
          columns={[
            { title: t('step'), render: (_, s) => stepName(s.step) },
            { title: t('stepState'), render: (_, s) => <span data-testid={`step-state-${s.step}`}>{APPROVAL_STEP_STATES[s.status] ? pick(APPROVAL_STEP_STATES[s.status]) : s.status}</span> },
            { title: t('who'), render: (_, s) => <span data-testid={`step-who-${s.step}`}>{who(s)}</span> },
            { title: t('decidedAt'), render: (_, s) => (s.decidedAt ? time(s.decidedAt) : '') },
            { title: t('comment'), dataIndex: 'comment' },
          ]} />
      )}
      {a?.change && (
        <div style={{ marginTop: 12 }}>
          <Typography.Text strong>{t('changeDiff')}</Typography.Text>
          <ChangeDiffTable diff={a.change.diff} titles={titles} />
        </div>
      )}
    </Card>
  );
}

/**
 * Approvals returned for changes (退回修改): in nobody's inbox until resubmitted. Whoever may raise an
 * approval (approval's `create Approval`: customer service, sales, admin) resubmits with a comment;
 * the returning step then decides again. The requester's own come first.
 */
function ReturnedList({ active }: { active: boolean }) {
  const { t, time } = useI18n();
  const { stepName, chainName } = useApprovalNames();
  const person = usePersonName();
  const session = useSession();
  const qc = useQueryClient();
  const { message } = AntApp.useApp();
  const [resubmitting, setResubmitting] = useState<{ item: ReturnedItem; key: string } | null>(null);
  const [form] = Form.useForm<{ comment: string }>();
  const returned = useQuery({
    queryKey: ['approvals-returned'],
    refetchInterval: active ? 15_000 : false,
    queryFn: () => unwrapAs<{ items: ReturnedItem[] }>(api.approval.GET('/api/approvals/returned', {})),
  });
  const mine = (i: ReturnedItem) => i.requestedBy === session.user.subject;
  const items = [...(returned.data?.items ?? [])].sort((x, y) => Number(mine(y)) - Number(mine(x)));
  const resubmit = useMutation({
    mutationFn: (v: { item: ReturnedItem; key: string; comment: string }) =>
      unwrapAs<ApprovalView>((api.approval.POST as unknown as Post)('/api/approvals/{approvalId}/resubmit', {
        params: { path: { approvalId: v.item.approvalId }, header: { 'Idempotency-Key': v.key } },
        body: v.comment.trim() ? { comment: v.comment.trim() } : {},
      })),
    onSuccess: (_, v) => { setResubmitting(null); refreshApprovalLists(qc, v.item.approvalId); void message.success(t('done')); },
  });
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <Typography.Paragraph type="secondary" style={{ margin: 0 }}>{t('returnedHint')}</Typography.Paragraph>
      <ProblemAlert error={returned.error} />
      <div data-testid="returned">
      <Table<ReturnedItem> size="small" rowKey="approvalId" loading={returned.isLoading} dataSource={items} pagination={{ pageSize: 50, hideOnSinglePage: true }} locale={{ emptyText: <EmptyText /> }}
        expandable={{ expandedRowRender: (i) => <ApprovalDetail approvalId={i.approvalId} orderId={i.orderId} /> }}
        columns={[
          { title: t('orderId'), render: (_, i) => <Link to={`/orders/${i.orderId}`} data-testid={`returned-order-${i.orderId}`}>{i.orderId}</Link> },
          { title: t('chain'), render: (_, i) => chainName(i.chain) },
          { title: t('step'), render: (_, i) => stepName(i.step) },
          { title: t('returnedBy'), render: (_, i) => person(i.returnedBy) },
          { title: t('returnComment'), render: (_, i) => <span data-testid={`returned-comment-${i.orderId}`}>{i.comment}</span> },
          { title: t('returnedAt'), render: (_, i) => time(i.returnedAt) },
          { title: t('requestedBy'), render: (_, i) => <>{person(i.requestedBy)}{mine(i) ? <Tag style={{ marginLeft: 6 }}>{t('mine')}</Tag> : null}</> },
          {
            title: t('actions'),
            render: (_, i) => session.can('approval.resubmit') ? (
              <Button size="small" type="primary" data-testid={`resubmit-${i.orderId}`} onClick={() => { form.resetFields(); resubmit.reset(); setResubmitting({ item: i, key: newIdempotencyKey() }); }}>{t('resubmit')}</Button>
            ) : null,
          },
        ]} />
      </div>
      <Modal open={!!resubmitting} title={resubmitting ? `${t('resubmit')} · ${stepName(resubmitting.item.step)}` : ''} okText={t('ok')} confirmLoading={resubmit.isPending}
        okButtonProps={{ 'data-testid': 'resubmit-confirm' } as never} onCancel={() => setResubmitting(null)}
        onOk={() => void form.validateFields().then((v) => resubmitting && resubmit.mutate({ ...resubmitting, comment: v.comment ?? '' }), () => undefined)}>
        {resubmitting?.item.comment && <Typography.Paragraph>{t('returnComment')}：{resubmitting.item.comment}</Typography.Paragraph>}
        <Form form={form} layout="vertical">
          <Form.Item name="comment" label={t('resubmitComment')}>
            <Input.TextArea data-testid="resubmit-comment" rows={3} maxLength={1000} />
          </Form.Item>
        </Form>
        <ProblemAlert error={resubmit.error} />
      </Modal>
    </Space>
  );
}

/** Who a pending step waits for, as people read it: role names, named users as their id. */
function usePrincipalNames() {
  const { pick } = useI18n();
  return (principals: readonly string[]) =>
    principals.map((p) => (p.startsWith('role:') ? pick(roleName(p.slice(5))) : p.replace(/^user:/, ''))).join(' / ');
}

/** Every pending step (optionally one role's), oldest first: a supervisor's view of where approvals stand. */
function AllPending({ active }: { active: boolean }) {
  const { t, time, pick } = useI18n();
  const { stepName, chainName } = useApprovalNames();
  const waitingFor = usePrincipalNames();
  const [role, setRole] = useState<string>();
  const pending = useQuery({
    queryKey: ['approvals-pending', role ?? null],
    // Polled only while its tab is shown (antd keeps a visited pane mounted).
    refetchInterval: active ? 15_000 : false,
    queryFn: () => unwrapAs<{ items: InboxItem[] }>(api.approval.GET('/api/approvals/pending', { params: { query: role ? { role: role as (typeof APPROVER_ROLES)[number] } : {} } })),
  });
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <Typography.Paragraph type="secondary" style={{ margin: 0 }}>{t('allPendingHint')}</Typography.Paragraph>
      <Select aria-label={t('waitingFor')} allowClear placeholder={t('anyRole')} style={{ width: 180 }} value={role} onChange={setRole} data-testid="pending-role"
        options={APPROVER_ROLES.map((r) => ({ value: r, label: pick(roleName(r)) }))} />
      <ProblemAlert error={pending.error} />
      <Table<InboxItem> size="small" rowKey={(i) => `${i.approvalId}/${i.step}`} loading={pending.isLoading} dataSource={pending.data?.items ?? []} pagination={{ pageSize: 50, hideOnSinglePage: true }} locale={{ emptyText: <EmptyText /> }} data-testid="all-pending"
        columns={[
          { title: t('colour'), render: (_, i) => <Tag color={COLOUR_CSS[i.sla]} data-testid={`pending-sla-${i.orderId}`}>{t(i.sla)}</Tag> },
          { title: t('orderId'), render: (_, i) => <Link to={`/orders/${i.orderId}`} data-testid={`pending-order-${i.orderId}`}>{i.orderId}</Link> },
          { title: t('chain'), render: (_, i) => chainName(i.chain) },
          { title: t('step'), render: (_, i) => <span data-testid={`pending-step-${i.orderId}`}>{stepName(i.step)}</span> },
          { title: t('waitingFor'), render: (_, i) => <span data-testid={`pending-for-${i.orderId}`}>{waitingFor(i.principals ?? [])}{i.escalated ? <Tag style={{ marginLeft: 6 }}>{t('escalated')}</Tag> : null}</span> },
          { title: t('startedAt'), render: (_, i) => time(i.startedAt) },
          { title: t('due'), render: (_, i) => time(i.dueAt) },
        ]} />
    </Space>
  );
}
