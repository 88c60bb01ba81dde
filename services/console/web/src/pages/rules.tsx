import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, Col, Descriptions, Form, Input, List, Row, Select, Space, Table, Tabs, Tag, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { ProblemError, toProblem } from '../api';
import { onUnauthorized, useSession } from '../session';
import { EmptyText, ProblemAlert, useNotifyProblem } from '../components';
import { useI18n, type Lang } from '../i18n';

/**
 * Rules (规则): the flow rules of the automatic order audit (自动审单) are edited here as versioned
 * documents of order-intake (/api/rules/flow, docs/adr/0021-rule-documents.md): validate against the
 * schema (each problem with its path), dry-run a draft against an order ("what would happen"),
 * save as a new version with a reason (the author is the logged-in user). Approval chains
 * (approval's /api/rules/chains) the same way, their dry run listing the steps an approval would
 * get. Notification rules are shown as notification publishes them, with the preview.
 */

interface RuleVersion {
  version: number;
  label: string | null;
  hash: string;
  author: string;
  reason: string;
  createdAt: string;
}
interface RulesOverview {
  kind: string;
  current: RuleVersion & { document: string; ruleSetHash: string };
  versions: RuleVersion[];
}
interface RuleProblem {
  path: string;
  reason: string;
  ruleId?: string;
}
interface FiredDecision {
  ruleId: string;
  decision: string;
  params?: Record<string, unknown>;
}
interface DryRun {
  orderId: string;
  ruleSetVersion: string;
  stage: string;
  fired: FiredDecision[];
  outcome: { kind: 'hold' | 'approval' | 'release' | 'blocked'; ruleId?: string; reason?: string; chain?: string; priority?: 'normal' | 'high'; freeShipping?: boolean; requiresQc?: boolean };
  draft: boolean;
}

interface ChainDryRun {
  chainSetVersion: string;
  chain: string;
  facts: { grandTotal?: number };
  steps: { id: string; role?: string; approvers?: string[]; quorum: string; slaMs: number; skipped: boolean; delegated?: { approver: string; delegateTo: string }[] }[];
  draft: boolean;
}

interface NotificationDryRun {
  rulesVersion: string;
  event: string;
  planned: { ruleId: string; template: string; channel: string; recipient: { kind: 'customer' | 'staff'; staffId?: string; name?: string } }[];
}

/** The editable rule sets: flow rules (order-intake), approval chains (approval), notification rules (notification). */
type RuleKind = 'flow' | 'chains' | 'notifications';
const BASE: Record<RuleKind, string> = {
  flow: '/api/order-intake/api/rules/flow',
  chains: '/api/approval/api/rules/chains',
  notifications: '/api/notification/api/rules/notifications',
};
const PREFIX: Record<RuleKind, string> = { flow: 'rules', chains: 'chains', notifications: 'notif' };
const VERSION_FIELD: Record<RuleKind, string> = { flow: 'ruleSetVersion', chains: 'chainSetVersion', notifications: 'version' };
const w = (lang: Lang, zh: string, en: string) => (lang === 'zh' ? zh : en);

/** The audit's verdict in plain words. */
function outcomeWords(lang: Lang, o: DryRun['outcome']): string {
  switch (o.kind) {
    case 'hold':
      return w(lang, `挂起待人工复核（规则 ${o.ruleId}：${o.reason}）`, `Put on hold for review (rule ${o.ruleId}: ${o.reason})`);
    case 'approval':
      return w(lang, `需要审批：审批链 ${o.chain}（规则 ${o.ruleId}）`, `Needs approval: chain ${o.chain} (rule ${o.ruleId})`);
    case 'release': {
      const extras = [
        o.priority === 'high' ? w(lang, '优先处理', 'high priority') : '',
        o.freeShipping ? w(lang, '包邮', 'free shipping') : '',
        o.requiresQc ? w(lang, '需质检', 'QC required') : '',
      ].filter(Boolean);
      return w(lang, `放行到仓库（待发货）${extras.length ? '：' + extras.join('、') : ''}`, `Released to the warehouse (ready to ship)${extras.length ? ': ' + extras.join(', ') : ''}`);
    }
    case 'blocked':
      return w(lang, '暂不放行：没有规则允许发货（例如尚未付款或库存未锁定）', 'Not released yet: no rule lets it ship (e.g. unpaid or stock not reserved)');
  }
}

function decisionWords(lang: Lang, d: FiredDecision): string {
  const p = d.params ?? {};
  switch (d.decision) {
    case 'require_approval':
      return w(lang, `需要审批链 ${String(p.chain)}`, `requires approval chain ${String(p.chain)}`);
    case 'hold_for_review':
      return w(lang, `挂起复核：${String(p.reason)}`, `hold for review: ${String(p.reason)}`);
    case 'priority':
      return w(lang, `优先级 ${String(p.level)}`, `priority ${String(p.level)}`);
    case 'require_qc':
      return w(lang, '需质检', 'requires QC');
    case 'free_shipping':
      return w(lang, '包邮', 'free shipping');
    case 'ready_to_ship':
      return w(lang, '可发货', 'ready to ship');
    default:
      return d.decision;
  }
}

/** A call through the BFF (it adds the session's token); order-intake's rules API has no generated client yet. */
async function fetchJson<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', accept: 'application/json' } });
  if (res.status === 401) onUnauthorized();
  const body = (await res.json().catch(() => ({}))) as unknown;
  if (!res.ok) throw new ProblemError(toProblem(res.status, body));
  return body as T;
}

/**
 * The order a dry run names: Flowline's own id (a ULID) as given, else the platform order number
 * people know (淘宝/京东 订单号), looked up in tracking; an unknown number goes to the service as typed
 * (its 404 names it).
 */
async function resolveOrderId(input: string): Promise<string> {
  const v = input.trim();
  if (/^[0-9A-HJKMNP-TV-Z]{26}$/i.test(v)) return v;
  // Tracking away: the text goes as typed (the service's answer says whether it names an order).
  const found = await fetchJson<{ items?: { orderId: string; channelOrderId: string }[] }>(`/api/tracking/api/tracking/orders?${new URLSearchParams({ q: v, limit: '5' }).toString()}`).catch(() => ({ items: [] }));
  const hits = (found.items ?? []).filter((o) => o.channelOrderId === v);
  return hits.length === 1 && hits[0] ? hits[0].orderId : v;
}

const problemsOf = (e: unknown): RuleProblem[] | null =>
  e instanceof ProblemError && e.problem.code === 'RULES_INVALID' ? ((e.problem.params?.problems as RuleProblem[] | undefined) ?? []) : null;

function ProblemList({ problems, testId }: { problems: RuleProblem[]; testId: string }) {
  const { lang } = useI18n();
  return (
    <Alert
      type="error"
      showIcon
      role="alert"
      title={w(lang, `文档未通过校验：${problems.length} 个问题`, `The document fails the schema: ${problems.length} problem(s)`)}
      description={
        <ul data-testid={testId} style={{ margin: 0, paddingInlineStart: 18 }}>
          {problems.map((p, i) => (
            <li key={i}>
              <code>{p.path || '(root)'}</code>
              {p.ruleId ? ` [${p.ruleId}]` : ''}: {p.reason}
            </li>
          ))}
        </ul>
      }
    />
  );
}

function RuleDocEditor({ kind }: { kind: RuleKind }) {
  const FLOW = BASE[kind];
  const tid = (x: string) => `${PREFIX[kind]}-${x}`;
  const { lang, time, money } = useI18n();
  const session = useSession();
  const canEdit = session.can('rules.edit');
  const qc = useQueryClient();
  const overview = useQuery({ queryKey: ['rules', kind], retry: 0, queryFn: () => fetchJson<RulesOverview>(FLOW) });
  const [draft, setDraft] = useState<string | null>(null);
  const [baseVersion, setBaseVersion] = useState<number | null>(null);
  const [orderId, setOrderId] = useState('');
  const [reason, setReason] = useState('');
  const [chain, setChain] = useState('custom-order');
  const [totalYuan, setTotalYuan] = useState('');
  const [eventType, setEventType] = useState('OrderShipped');
  useEffect(() => {
    if (overview.data && draft === null) {
      setDraft(overview.data.current.document);
      setBaseVersion(overview.data.current.version);
    }
  }, [overview.data, draft]);
  const text = draft ?? '';

  const validate = useMutation({
    mutationFn: async () => {
      const v = await fetchJson<{ ruleSetVersion?: string; rules?: number; chainSetVersion?: string; chains?: string[]; rulesVersion?: string }>(`${FLOW}/validate`, { method: 'POST', body: JSON.stringify({ document: text }) });
      if (kind === 'flow') return w(lang, `校验通过：${v.ruleSetVersion}，${v.rules} 条规则`, `Valid: ${v.ruleSetVersion}, ${v.rules} rule(s)`);
      if (kind === 'notifications') return w(lang, `校验通过：${v.rulesVersion}，${v.rules} 条规则`, `Valid: ${v.rulesVersion}, ${v.rules} rule(s)`);
      return w(lang, `校验通过：${v.chainSetVersion}，审批链 ${(v.chains ?? []).join('、')}`, `Valid: ${v.chainSetVersion}, chains ${(v.chains ?? []).join(', ')}`);
    },
  });
  const dryRun = useMutation({
    mutationFn: async () => fetchJson<DryRun>(`${FLOW}/dry-run`, { method: 'POST', body: JSON.stringify({ document: text, orderId: await resolveOrderId(orderId) }) }),
  });
  const chainRun = useMutation({
    mutationFn: async () =>
      fetchJson<ChainDryRun>(`${FLOW}/dry-run`, {
        method: 'POST',
        body: JSON.stringify({ document: text, chain: chain.trim(), ...(orderId.trim() ? { orderId: await resolveOrderId(orderId) } : { grandTotal: Math.round(Number(totalYuan || '0') * 100) }) }),
      }),
  });
  const notifRun = useMutation({
    mutationFn: async () => fetchJson<NotificationDryRun>(`${FLOW}/dry-run`, { method: 'POST', body: JSON.stringify({ document: text, event: eventType.trim(), orderId: await resolveOrderId(orderId) }) }),
  });
  const save = useMutation({
    mutationFn: () => fetchJson<RuleVersion>(FLOW, { method: 'PUT', body: JSON.stringify({ document: text, reason: reason.trim(), expectedVersion: baseVersion ?? 0 }) }),
    onSuccess: async (v) => {
      setBaseVersion(v.version);
      setReason('');
      await qc.invalidateQueries({ queryKey: ['rules', kind] });
    },
  });
  const reset = () => {
    validate.reset();
    dryRun.reset();
    chainRun.reset();
    notifRun.reset();
    save.reset();
  };

  const cur = overview.data?.current;
  const problems = problemsOf(validate.error) ?? problemsOf(dryRun.error) ?? problemsOf(chainRun.error) ?? problemsOf(notifRun.error) ?? problemsOf(save.error);
  const editorLabel = { flow: w(lang, '流程规则文档', 'Flow rules document'), chains: w(lang, '审批链文档', 'Approval chains document'), notifications: w(lang, '通知规则文档', 'Notification rules document') }[kind];
  const versionField = VERSION_FIELD[kind];
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <ProblemAlert error={overview.error} />
      {cur && (
        <Descriptions size="small" bordered column={{ xs: 1, md: 3 }} data-testid={tid('current')}>
          <Descriptions.Item label={w(lang, '生效版本', 'Version in force')}>
            <span data-testid={tid('current-version')}>{cur.version}</span> <Tag>{cur.label}</Tag>
          </Descriptions.Item>
          <Descriptions.Item label={w(lang, '作者', 'Author')}>
            <span data-testid={tid('current-author')}>{cur.author}</span>
          </Descriptions.Item>
          <Descriptions.Item label={w(lang, '时间', 'Saved')}>{time(cur.createdAt)}</Descriptions.Item>
          <Descriptions.Item label={w(lang, '原因', 'Reason')} span={3}>
            {cur.reason}
          </Descriptions.Item>
        </Descriptions>
      )}
      <Row gutter={12}>
        <Col xs={24} xl={14}>
          <Card size="small" title={w(lang, '规则文档（YAML）', 'Rule document (YAML)')}>
            <Input.TextArea
              data-testid={tid('editor')}
              aria-label={editorLabel}
              value={text}
              onChange={(e) => {
                setDraft(e.target.value);
                reset();
              }}
              autoSize={{ minRows: 18, maxRows: 40 }}
              spellCheck={false}
              style={{ fontFamily: 'ui-monospace, Menlo, Consolas, monospace', fontSize: 12 }}
            />
            <Space style={{ marginTop: 8 }} wrap>
              <Button data-testid={tid('validate')} onClick={() => validate.mutate()} loading={validate.isPending}>
                {w(lang, '校验', 'Validate')}
              </Button>
              <Button
                onClick={() => {
                  if (cur) {
                    setDraft(cur.document);
                    setBaseVersion(cur.version);
                  }
                  reset();
                }}
              >
                {w(lang, '还原为生效版本', 'Revert to the version in force')}
              </Button>
            </Space>
            {validate.isSuccess && <Alert style={{ marginTop: 8 }} type="success" showIcon data-testid={tid('valid')} title={validate.data} />}
            {problems && <div style={{ marginTop: 8 }}><ProblemList problems={problems} testId={tid('problems')} /></div>}
            {!problems && <ProblemAlert error={validate.error ?? save.error} />}
          </Card>
        </Col>
        <Col xs={24} xl={10}>
          <Space orientation="vertical" style={{ width: '100%' }}>
            {kind === 'flow' ? (
            <Card size="small" title={w(lang, '试运行（不会修改订单）', 'Dry run (nothing is changed)')}>
              <Space.Compact style={{ width: '100%' }}>
                <Input data-testid={tid('dry-order')} aria-label={w(lang, '订单号', 'Order id')} placeholder={w(lang, '平台订单号或系统订单号', 'Platform order number or Flowline order id')} value={orderId} onChange={(e) => setOrderId(e.target.value)} />
                <Button data-testid={tid('dry-run')} type="primary" disabled={!orderId.trim()} loading={dryRun.isPending} onClick={() => dryRun.mutate()}>
                  {w(lang, '试运行', 'Dry run')}
                </Button>
              </Space.Compact>
              {!problemsOf(dryRun.error) && <ProblemAlert error={dryRun.error} />}
              {dryRun.data && (
                <div data-testid={tid('dry-result')} data-outcome={dryRun.data.outcome.kind} style={{ marginTop: 8 }}>
                  <Typography.Paragraph strong data-testid={tid('dry-outcome')} style={{ marginBottom: 4 }}>
                    {outcomeWords(lang, dryRun.data.outcome)}
                  </Typography.Paragraph>
                  <Typography.Text>
                    {w(lang, `规则版本 ${dryRun.data.ruleSetVersion}（草稿），订单当前阶段 ${dryRun.data.stage}`, `Rules ${dryRun.data.ruleSetVersion} (draft), order stage ${dryRun.data.stage}`)}
                  </Typography.Text>
                  <List
                    size="small"
                    header={w(lang, '触发的规则', 'Rules that fire')}
                    dataSource={dryRun.data.fired}
                    locale={{ emptyText: <span style={{ color: '#595959' }}>{w(lang, '没有规则触发', 'No rule fires')}</span> }}
                    renderItem={(d) => (
                      <List.Item>
                        <code>{d.ruleId}</code>: {decisionWords(lang, d)}
                      </List.Item>
                    )}
                  />
                </div>
              )}
            </Card>
            ) : kind === 'notifications' ? (
            <Card size="small" title={w(lang, '试运行：这个事件会发出哪些通知', 'Dry run: which messages this event would send')}>
              <Space wrap>
                <Input data-testid={tid('dry-event')} aria-label={w(lang, '事件类型', 'Event type')} placeholder="OrderShipped" value={eventType} onChange={(e) => setEventType(e.target.value)} style={{ width: 200 }} />
                <Input data-testid={tid('dry-order')} aria-label={w(lang, '订单号', 'Order id')} placeholder={w(lang, '平台订单号或系统订单号', 'Platform order number or Flowline order id')} value={orderId} onChange={(e) => setOrderId(e.target.value)} style={{ width: 240 }} />
                <Button data-testid={tid('dry-run')} type="primary" disabled={!eventType.trim() || !orderId.trim()} loading={notifRun.isPending} onClick={() => notifRun.mutate()}>
                  {w(lang, '试运行', 'Dry run')}
                </Button>
              </Space>
              {!problemsOf(notifRun.error) && <ProblemAlert error={notifRun.error} />}
              {notifRun.data && (
                <List
                  data-testid={tid('dry-result')}
                  size="small"
                  header={w(lang, `规则版本 ${notifRun.data.rulesVersion}：${notifRun.data.planned.length} 条通知`, `Rules ${notifRun.data.rulesVersion}: ${notifRun.data.planned.length} message(s)`)}
                  dataSource={notifRun.data.planned}
                  locale={{ emptyText: <span style={{ color: '#595959' }}>{w(lang, '不发送任何通知', 'Nothing would be sent')}</span> }}
                  renderItem={(p) => (
                    <List.Item>
                      <code>{p.ruleId}</code>:{' '}
                      {w(
                        lang,
                        `通过 ${p.channel} 发送模板 ${p.template} 给${p.recipient.kind === 'customer' ? '顾客' : `员工 ${p.recipient.name ?? p.recipient.staffId}`}`,
                        `template ${p.template} by ${p.channel} to ${p.recipient.kind === 'customer' ? 'the customer' : `staff ${p.recipient.name ?? p.recipient.staffId}`}`,
                      )}
                    </List.Item>
                  )}
                />
              )}
            </Card>
            ) : (
            <Card size="small" title={w(lang, '试运行：这笔订单会走哪些审批步骤', 'Dry run: which steps an approval would get')}>
              <Space wrap>
                <Input data-testid={tid('dry-chain')} aria-label={w(lang, '审批链', 'Chain')} placeholder={w(lang, '审批链', 'Chain')} value={chain} onChange={(e) => setChain(e.target.value)} style={{ width: 160 }} />
                <Input data-testid={tid('dry-order')} aria-label={w(lang, '订单号（可选）', 'Order id (optional)')} placeholder={w(lang, '订单号（可选）', 'Order id (optional)')} value={orderId} onChange={(e) => setOrderId(e.target.value)} style={{ width: 220 }} />
                <Input data-testid={tid('dry-total')} aria-label={w(lang, '或订单金额（元）', 'or grand total (yuan)')} placeholder={w(lang, '或订单金额（元）', 'or grand total (yuan)')} value={totalYuan} onChange={(e) => setTotalYuan(e.target.value)} style={{ width: 160 }} />
                <Button data-testid={tid('dry-run')} type="primary" disabled={!chain.trim() || (!orderId.trim() && !totalYuan.trim())} loading={chainRun.isPending} onClick={() => chainRun.mutate()}>
                  {w(lang, '试运行', 'Dry run')}
                </Button>
              </Space>
              {!problemsOf(chainRun.error) && <ProblemAlert error={chainRun.error} />}
              {chainRun.data && (
                <div data-testid={tid('dry-result')} style={{ marginTop: 8 }}>
                  <Typography.Paragraph strong style={{ marginBottom: 4 }}>
                    {w(
                      lang,
                      `审批链 ${chainRun.data.chain}（版本 ${chainRun.data.chainSetVersion}）${chainRun.data.facts.grandTotal !== undefined ? `，订单金额 ${money(chainRun.data.facts.grandTotal)}` : ''}：${chainRun.data.steps.filter((x) => !x.skipped).length} 个审批步骤`,
                      `Chain ${chainRun.data.chain} (version ${chainRun.data.chainSetVersion})${chainRun.data.facts.grandTotal !== undefined ? `, grand total ${money(chainRun.data.facts.grandTotal)}` : ''}: ${chainRun.data.steps.filter((x) => !x.skipped).length} step(s)`,
                    )}
                  </Typography.Paragraph>
                  <List
                    size="small"
                    dataSource={chainRun.data.steps}
                    renderItem={(st) => (
                      <List.Item data-testid={tid(`step-${st.id}`)} data-skipped={String(st.skipped)}>
                        <code>{st.id}</code>:{' '}
                        {st.skipped
                          ? w(lang, '跳过（条件成立）', 'skipped (its condition holds)')
                          : w(
                              lang,
                              `由${st.role ? `角色 ${st.role}` : `${(st.approvers ?? []).join('、')}（${st.quorum === 'all' ? '全部同意' : '任一同意'}）`}审批，时限 ${Math.round(st.slaMs / 3_600_000)} 小时`,
                              `decided by ${st.role ? `role ${st.role}` : `${(st.approvers ?? []).join(', ')} (${st.quorum === 'all' ? 'all of them' : 'any one'})`}, SLA ${Math.round(st.slaMs / 3_600_000)} h`,
                            )}
                        {(st.delegated ?? []).map((d) => w(lang, `；${d.approver} 休假，由 ${d.delegateTo} 代审`, `; ${d.approver} is away, ${d.delegateTo} decides`)).join('')}
                      </List.Item>
                    )}
                  />
                </div>
              )}
            </Card>
            )}
            <Card size="small" title={w(lang, '保存为新版本', 'Save as a new version')}>
              {canEdit ? (
                <Form layout="vertical" onFinish={() => save.mutate()}>
                  <Form.Item label={w(lang, '修改原因（必填）', 'Why (required)')} htmlFor={tid('reason')} required>
                    <Input id={tid('reason')} data-testid={tid('reason')} value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} />
                  </Form.Item>
                  <Typography.Paragraph type="secondary" style={{ color: '#595959' }}>
                    {w(lang, `基于版本 ${baseVersion ?? '-'}；请同时修改 ${versionField}。`, `Based on version ${baseVersion ?? '-'}; give ${versionField} a new value too.`)}
                  </Typography.Paragraph>
                  <Button data-testid={tid('save')} type="primary" htmlType="submit" disabled={!reason.trim() || text === cur?.document} loading={save.isPending}>
                    {w(lang, '保存', 'Save')}
                  </Button>
                </Form>
              ) : (
                <Typography.Text>{w(lang, '当前角色只能查看和试运行规则（修改需管理员或总经理）。', 'Your role may view and dry-run rules; editing needs admin or general manager.')}</Typography.Text>
              )}
              {save.isSuccess && (
                <Alert style={{ marginTop: 8 }} type="success" showIcon data-testid={tid('saved')} title={w(lang, `已保存为版本 ${save.data.version}（${save.data.label ?? ''}），作者 ${save.data.author}`, `Saved as version ${save.data.version} (${save.data.label ?? ''}) by ${save.data.author}`)} />
              )}
            </Card>
          </Space>
        </Col>
      </Row>
      <Card size="small" title={w(lang, '版本历史', 'Versions')}>
        <Table<RuleVersion>
          data-testid={tid('versions')}
          size="small"
          rowKey="version"
          pagination={{ pageSize: 10 }}
          dataSource={overview.data?.versions ?? []}
          locale={{ emptyText: <EmptyText /> }}
          columns={[
            { title: w(lang, '版本', 'Version'), dataIndex: 'version' },
            { title: versionField, dataIndex: 'label' },
            { title: w(lang, '作者', 'Author'), dataIndex: 'author' },
            { title: w(lang, '原因', 'Reason'), dataIndex: 'reason' },
            { title: w(lang, '时间', 'Saved'), dataIndex: 'createdAt', render: (v: string) => time(v) },
          ]}
        />
      </Card>
    </Space>
  );
}

/** Notification rules as notification publishes them, with the preview (editing them is not offered yet). */
function PublishedRules() {
  const { t, lang } = useI18n();
  const notify = useNotifyProblem();
  const config = useQuery({ queryKey: ['notification-config'], retry: 0, queryFn: () => fetchJson<unknown>('/api/notification/api/notifications-config') });
  const [form] = Form.useForm<{ orderId: string; template: string; channel: string }>();
  const preview = useMutation({
    mutationFn: (v: { orderId: string; template: string; channel: string }) =>
      fetchJson<unknown>('/api/notification/api/notifications/preview', { method: 'POST', body: JSON.stringify({ ...v, locale: lang === 'zh' ? 'zh-CN' : 'en' }) }),
    onError: notify,
  });
  const rules = ((config.data as { rules?: { id?: string; template?: string }[] } | undefined)?.rules ?? []) as { id?: string; template?: string; trigger?: string }[];
  return (
    <Row gutter={12}>
      <Col xs={24}>
        <Card size="small" title={t('notificationRules')}>
          <ProblemAlert error={config.error} />
          <pre style={{ fontSize: 12, maxHeight: 220, overflow: 'auto' }}>{config.data ? JSON.stringify(config.data, null, 2).slice(0, 4000) : ''}</pre>
          <Form form={form} layout="inline" initialValues={{ channel: 'sms' }} onFinish={(v) => preview.mutate(v)}>
            <Form.Item name="orderId" rules={[{ required: true }]}><Input aria-label={t('orderId')} placeholder={t('orderId')} /></Form.Item>
            <Form.Item name="template" rules={[{ required: true }]}>
              <Select aria-label={t('template')} placeholder={t('template')} style={{ width: 180 }} options={[...new Set(rules.flatMap((r) => (r.template ? [r.template] : [])))].map((x) => ({ value: x, label: x }))} />
            </Form.Item>
            <Form.Item name="channel"><Select aria-label={t('channel')} style={{ width: 110 }} options={['sms', 'email', 'wechat', 'dingtalk'].map((c) => ({ value: c, label: c }))} /></Form.Item>
            <Button htmlType="submit" loading={preview.isPending}>{t('preview')}</Button>
          </Form>
          {preview.data != null && <pre style={{ fontSize: 12, whiteSpace: 'pre-wrap' }}>{JSON.stringify(preview.data, null, 2)}</pre>}
        </Card>
      </Col>
    </Row>
  );
}

export function RulesPage() {
  const { t, lang } = useI18n();
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <Typography.Title level={2} style={{ margin: 0 }}>{t('rules')}</Typography.Title>
      <Tabs
        data-testid="rules-sets"
        items={[
          { key: 'flow', label: w(lang, '流程规则（自动审单）', 'Flow rules (order audit)'), children: <RuleDocEditor kind="flow" /> },
          { key: 'chains', label: w(lang, '审批链', 'Approval chains'), children: <RuleDocEditor kind="chains" /> },
          { key: 'notifications', label: w(lang, '通知规则', 'Notification rules'), children: <RuleDocEditor kind="notifications" /> },
          { key: 'published', label: w(lang, '通知预览', 'Notification preview'), children: <PublishedRules /> },
        ]}
      />
    </Space>
  );
}
