import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App as AntApp, Button, Card, Form, Input, Modal, Select, Space, Table, Tabs, Tag, Typography } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { api, newIdempotencyKey, unwrapAs, type OrderView } from '../api';
import { EmptyText, ProblemAlert, useNotifyProblem } from '../components';
import { APPROVAL_CHAINS, APPROVAL_STEPS, APPROVER_ROLES, roleName, STAGES, useI18n, type UiKey } from '../i18n';
import { useSession } from '../session';
import { COLOUR_CSS } from './board';

interface InboxItem { approvalId: string; orderId: string; chain: string; kind: string; step: string; startedAt: string; dueAt: string; sla: 'green' | 'yellow' | 'red'; via: string[]; principals?: string[]; escalated?: boolean }
interface ApprovalStepView { step: string; status: string; decidedBy: string | null; comment: string | null }
interface ApprovalView { approvalId: string; status: string; currentStep: string | null; grandTotal: number | null; currency: string | null; steps: ApprovalStepView[]; change: { status: string; diff: unknown } | null; attachments?: { name: string; url: string }[] }
type Verb = 'approve' | 'reject' | 'return';
const VERB_LABEL: Record<Verb, UiKey> = { approve: 'approve', reject: 'reject', return: 'returnForChanges' };

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
  const [form] = Form.useForm<{ comment: string }>();
  const inbox = useQuery({ queryKey: ['inbox', session.user.subject], queryFn: () => unwrapAs<{ items: InboxItem[] }>(api.approval.GET('/api/approvals/inbox', {} as never)), refetchInterval: 15_000 });
  const items = inbox.data?.items ?? [];
  const decide = useMutation({
    mutationFn: (v: { item: InboxItem; verb: Verb; key: string; comment: string }) => {
      const post = api.approval.POST as unknown as (p: string, init: unknown) => Promise<{ data?: unknown; error?: unknown; response: Response }>;
      const body = v.verb === 'reject' ? { reason: v.comment } : v.comment ? { comment: v.comment } : {};
      return unwrapAs<ApprovalView>(post(`/api/approvals/{approvalId}/steps/{step}/${v.verb}`, { params: { path: { approvalId: v.item.approvalId, step: v.item.step }, header: { 'Idempotency-Key': v.key } }, body }));
    },
    onSuccess: () => { setDecision(null); void qc.invalidateQueries({ queryKey: ['inbox'] }); void qc.invalidateQueries({ queryKey: ['approvals-pending'] }); void message.success(t('done')); },
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
        expandable={{ expandedRowRender: (i) => <ApprovalDetail item={i} /> }}
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
                {(['approve', 'reject', 'return'] as const).map((verb) => (
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
        { key: 'inbox', label: t('myInbox'), children: inboxPane },
        { key: 'all', label: <span data-testid="tab-all-pending">{t('allPending')}</span>, children: <AllPending active={tab === 'all'} /> },
      ]} />
      <Modal open={!!decision} title={decision ? `${t(VERB_LABEL[decision.verb])} · ${stepName(decision.item.step)}` : ''} okText={t('ok')} confirmLoading={decide.isPending}
        okButtonProps={{ 'data-testid': 'decision-confirm' } as never} onCancel={() => setDecision(null)}
        onOk={() => void form.validateFields().then((v) => decision && decide.mutate({ ...decision, comment: v.comment ?? '' }))}>
        <Form form={form} layout="vertical">
          <Form.Item name="comment" label={t('comment')} rules={[{ required: decision?.verb !== 'approve' }]}>
            <Input.TextArea data-testid="decision-comment" rows={3} />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}

function ApprovalDetail({ item }: { item: InboxItem }) {
  const { t, pick, money } = useI18n();
  const { stepName } = useApprovalNames();
  const order = useQuery({ queryKey: ['order', item.orderId], queryFn: () => unwrapAs<OrderView>(api.intake.GET('/api/orders/{orderId}', { params: { path: { orderId: item.orderId } } })) });
  const approval = useQuery({ queryKey: ['approval', item.approvalId], queryFn: () => unwrapAs<ApprovalView>(api.approval.GET('/api/approvals/{approvalId}' as never, { params: { path: { approvalId: item.approvalId } } } as never)) });
  const o = order.data;
  return (
    <Card size="small">
      <ProblemAlert error={order.error ?? approval.error} />
      {o && (
        <Typography.Paragraph>
          {o.channelOrderId} · {pick(STAGES[o.stage])} · {money(o.totals.grandTotal, o.totals.currency)} · {o.lines.map((l) => `${l.title} x${l.quantity}`).join('，')}
          {o.attachments.length > 0 && <> · {o.attachments.map((a) => <a key={a} href={a} target="_blank" rel="noreferrer" style={{ marginInline: 4 }}>{a.split('/').pop()}</a>)}</>}
        </Typography.Paragraph>
      )}
      {approval.data && (
        <Table<ApprovalStepView> size="small" rowKey="step" pagination={false} dataSource={approval.data.steps}
          columns={[{ title: t('step'), render: (_, s) => stepName(s.step) }, { title: t('stage'), dataIndex: 'status' }, { title: t('who'), dataIndex: 'decidedBy' }, { title: t('comment'), dataIndex: 'comment' }]} />
      )}
      {approval.data?.change && <pre style={{ fontSize: 12 }} aria-label="diff">{JSON.stringify(approval.data.change.diff, null, 2)}</pre>}
    </Card>
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
