import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App as AntApp, Button, Card, Descriptions, Input, Progress, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { api, ProblemError, unwrapAs } from '../api';
import { EmptyText, ProblemAlert, useNotifyProblem } from '../components';
import { CHANNELS, useI18n } from '../i18n';

/*
 * Shapes as channel-gateway answers them (its OpenAPI documents no response schemas for these yet):
 * ImportReport in services/channel-gateway/src/application/import-report.ts, SyncOutcome and the
 * quarantine entry in import.service.ts / channel-store.port.ts, ProfileSummary in profile-registry.ts.
 */
interface Reason { code: string; column?: string; zh: string; en: string }
interface Rejected { quarantineId: string | null; channelOrderId: string | null; rowNumbers: number[]; reasons: Reason[] }
interface RefusedChange { channelOrderId: string; orderId: string; step: string; code: string; message: string }
interface Report {
  runId: string;
  resumed: boolean;
  dryRun: boolean;
  profile: { id: string; version: number };
  file: { name: string; format: string; encoding: string; bom: boolean };
  itemsFile?: { name: string; encoding: string };
  rowsRead: number;
  blankRows: number;
  summaryRows: number;
  duplicateRows: number;
  ordersSeen: number;
  imported: number;
  duplicates: number;
  updated: number;
  waiting: number;
  rejected: Rejected[];
  refusedChanges: RefusedChange[];
  autoIngestRate: number;
}
interface Table { headers: string[]; rows: { rowNumber: number; cells: string[] }[] }
interface Entry { id: string; channel: string; channelOrderId: string | null; orderTable: Table; itemsTable: Table | null; reasons: Reason[]; status: string }
interface Profile { id: string; version: number; channel: string; description: string; itemsFile?: boolean; defaultFor?: string[] }
type FixOutcome =
  | { kind: 'imported' | 'duplicate' | 'updated' | 'refused'; orderId: string; refused: RefusedChange[] }
  | { kind: 'waiting'; platformStatus: string }
  | { kind: 'rejected'; reasons: Reason[] };
type Post = (p: string, init: unknown) => Promise<{ data?: unknown; error?: unknown; response: Response }>;
type Edit = { rowNumber: number; column: string; value: string; file: 'order' | 'items' };

const toBase64 = (buf: ArrayBuffer) => {
  let s = '';
  const bytes = new Uint8Array(buf);
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};
const fileBody = async (f: File) => ({ name: f.name, contentBase64: toBase64(await f.arrayBuffer()) });

/** The cells a reason's column can be fixed in: the order file's first row, else each items-file row (宝贝报表) with that column. */
function editableCells(e: Entry, column: string): { file: 'order' | 'items'; rowNumber: number; value: string }[] {
  const inOrder = e.orderTable.headers.indexOf(column);
  const first = e.orderTable.rows[0];
  if (inOrder >= 0 && first) return [{ file: 'order', rowNumber: first.rowNumber, value: first.cells[inOrder] ?? '' }];
  const inItems = e.itemsTable?.headers.indexOf(column) ?? -1;
  if (inItems >= 0 && e.itemsTable) return e.itemsTable.rows.map((r) => ({ file: 'items', rowNumber: r.rowNumber, value: r.cells[inItems] ?? '' }));
  return first ? [{ file: 'order', rowNumber: first.rowNumber, value: '' }] : [];
}

/** Upload a platform export (channel-gateway) with its items file when the layout joins one, its report, and the quarantined rows: cells edited and retried. */
export function ImportsPage() {
  const { t, pick, lang, reason } = useI18n();
  const qc = useQueryClient();
  const notify = useNotifyProblem();
  const { message } = AntApp.useApp();
  const [channel, setChannel] = useState<string>('pinduoduo');
  const [profile, setProfile] = useState<string>();
  const [progress, setProgress] = useState<number | null>(null);
  const [edits, setEdits] = useState<Record<string, Edit>>({});
  // The order file waiting for its items file (宝贝报表), the items file chosen, and the inputs' generation (a new one clears them).
  const [orderFile, setOrderFile] = useState<File | null>(null);
  const [itemsFile, setItemsFile] = useState<File | null>(null);
  const [inputs, setInputs] = useState(0);
  // channel-gateway asked for the items file (IMPORT_ITEMS_FILE_REQUIRED) or named the profiles the file fits.
  const [itemsAsked, setItemsAsked] = useState(false);
  const [suggested, setSuggested] = useState<string[]>([]);
  // The last retry of each quarantine entry channel-gateway refused again (its reasons), by entry id.
  const [fixRejected, setFixRejected] = useState<Record<string, Reason[]>>({});
  const profiles = useQuery({ queryKey: ['profiles'], queryFn: () => unwrapAs<Profile[]>(api.gateway.GET('/api/profiles' as never, {} as never)) });
  const quarantine = useQuery({ queryKey: ['quarantine', channel], queryFn: () => unwrapAs<Entry[]>(api.gateway.GET('/api/quarantine' as never, { params: { query: { channel } } } as never)) });
  const post = api.gateway.POST as unknown as Post;
  // The newest version of each profile (the list has every version, newest first); a new import takes the newest.
  const latest = (profiles.data ?? []).filter((p, i, all) => all.findIndex((q) => q.id === p.id) === i);
  const effective = latest.find((p) => (profile ? p.id === profile : p.defaultFor?.includes(channel)));
  const needsItems = itemsAsked || !!effective?.itemsFile;
  const pendingFrom = () => {
    setOrderFile(null);
    setItemsFile(null);
    setItemsAsked(false);
    setInputs((n) => n + 1);
  };

  const upload = useMutation({
    mutationFn: async (files: { order: File; items?: File }) => {
      setProgress(10);
      const file = await fileBody(files.order);
      const items = files.items ? await fileBody(files.items) : undefined;
      setProgress(40);
      const body = { channel, ...(profile ? { profile } : {}), file, ...(items ? { items } : {}) };
      const report = await unwrapAs<Report>(post('/api/imports', { body }));
      setProgress(100);
      return report;
    },
    onSuccess: () => {
      pendingFrom();
      setSuggested([]);
      void qc.invalidateQueries({ queryKey: ['quarantine'] });
    },
    onError: (e, files) => {
      setProgress(null);
      notify(e);
      if (!(e instanceof ProblemError)) return;
      const details = e.problem.params ?? {};
      // The order file stays chosen: the items file is all that is missing.
      if (e.problem.code === 'IMPORT_ITEMS_FILE_REQUIRED') {
        setOrderFile(files.order);
        setItemsAsked(true);
      }
      // The channel's default layout does not fit: offer the profiles the file does fit.
      if (e.problem.code === 'IMPORT_COLUMNS_MISSING' && Array.isArray(details.suggestedProfiles)) {
        setSuggested(details.suggestedProfiles.filter((p): p is string => typeof p === 'string'));
        setOrderFile(files.order);
      }
    },
  });
  const chooseOrderFile = (f: File) => {
    setOrderFile(f);
    if (!needsItems) upload.mutate({ order: f });
  };

  const fix = useMutation({
    mutationFn: (e: Entry) => {
      const list = Object.entries(edits)
        .filter(([k]) => k.startsWith(`${e.id}|`))
        .map(([, edit]) => edit);
      return unwrapAs<{ outcome: FixOutcome }>(post('/api/quarantine/{id}/fix', { params: { path: { id: e.id } }, body: { edits: list } }));
    },
    onSuccess: ({ outcome }, e) => {
      void qc.invalidateQueries({ queryKey: ['quarantine'] });
      if (outcome.kind === 'rejected') {
        // Refused again: the entry stays open with these reasons; the person sees why, not "done".
        setFixRejected((m) => ({ ...m, [e.id]: outcome.reasons }));
        void message.error({ content: <span data-testid="fix-refused">{t('fixRejected')}</span>, duration: 8 });
        return;
      }
      setFixRejected((m) => Object.fromEntries(Object.entries(m).filter(([id]) => id !== e.id)));
      setEdits((m) => Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith(`${e.id}|`))));
      if (outcome.kind === 'waiting') void message.info(`${t('waiting')}：${outcome.platformStatus}`);
      else if (outcome.refused.length) void message.warning({ content: <span data-testid="fix-refused-changes">{`${t('refusedChanges')}：${outcome.refused.map((r) => reason(r)).join('；')}`}</span>, duration: 8 });
      else void message.success(t('done'));
    },
    onError: notify,
  });

  const report = upload.data;
  const profileOptions = latest.filter((p) => p.channel === channel || suggested.includes(p.id)).map((p) => ({ value: p.id, label: `${p.id} v${p.version}` }));
  const text = (x: Reason) => (lang === 'zh' ? x.zh : x.en) || reason({ code: x.code });
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <Typography.Title level={2} style={{ margin: 0 }}>{t('imports')}</Typography.Title>
      <Card size="small" title={t('upload')}>
        <Space orientation="vertical" style={{ width: '100%' }}>
          <Space wrap>
            <Select aria-label={t('channel')} data-testid="import-channel" style={{ width: 140 }} value={channel}
              onChange={(c: string) => { setChannel(c); setProfile(undefined); setSuggested([]); pendingFrom(); }}
              options={Object.entries(CHANNELS).map(([k, v]) => ({ value: k, label: pick(v) }))} />
            <Select aria-label={t('profile')} data-testid="import-profile" allowClear placeholder={t('profile')} style={{ width: 220 }} value={profile}
              onChange={(p?: string) => { setProfile(p); setItemsAsked(false); }} options={profileOptions} />
            <label>
              {needsItems ? `${t('orderFile')}：` : null}
              <input key={`order-${inputs}`} type="file" aria-label={needsItems ? t('orderFile') : t('upload')} data-testid="import-file" accept=".csv,.xlsx,.xls,.txt,.tsv"
                onChange={(e) => { const f = e.target.files?.[0]; if (f) chooseOrderFile(f); if (!needsItems) e.target.value = ''; }} />
            </label>
            {needsItems && (
              <label>
                {`${t('itemsFile')}：`}
                <input key={`items-${inputs}`} type="file" aria-label={t('itemsFile')} data-testid="import-items-file" accept=".csv,.xlsx,.xls,.txt,.tsv"
                  onChange={(e) => setItemsFile(e.target.files?.[0] ?? null)} />
              </label>
            )}
            {needsItems && (
              <Button type="primary" data-testid="import-start" disabled={!orderFile || !itemsFile} loading={upload.isPending}
                onClick={() => { if (orderFile && itemsFile) upload.mutate({ order: orderFile, items: itemsFile }); }}>
                {t('startImport')}
              </Button>
            )}
            {progress !== null && <Progress aria-label={t('upload')} percent={progress} size="small" style={{ width: 160 }} status={upload.isError ? 'exception' : undefined} />}
          </Space>
          {needsItems && <Typography.Text type="secondary" data-testid="items-hint">{t('itemsFileHint')}{orderFile ? ` ${t('orderFile')}：${orderFile.name}` : ''}</Typography.Text>}
          {suggested.length > 0 && <Alert type="info" showIcon data-testid="suggested-profiles" title={`${t('profileSuggested')}：${suggested.join(' / ')}`} />}
        </Space>
      </Card>
      {report && (
        <Card size="small" title={t('report')} data-testid="import-report"
          extra={<Space>{report.dryRun && <Tag>{t('dryRun')}</Tag>}{report.resumed && <Tag>{t('resumed')}</Tag>}</Space>}>
          <Descriptions size="small" column={{ xs: 1, sm: 2, md: 3, lg: 4 }} items={[
            { key: 'f', label: t('fileName'), children: <span data-testid="report-file">{`${report.file.name}（${report.file.format.toUpperCase()}，${report.file.encoding}）`}</span> },
            ...(report.itemsFile ? [{ key: 'fi', label: t('itemsFile'), children: <span data-testid="report-items-file">{`${report.itemsFile.name}（${report.itemsFile.encoding}）`}</span> }] : []),
            { key: 'p', label: t('profile'), children: <span data-testid="report-profile">{`${report.profile.id} v${report.profile.version}`}</span> },
            { key: 'r', label: t('rowsRead'), children: <span data-testid="rows-read">{report.rowsRead}</span> },
            { key: 'sk', label: t('rowsSkipped'), children: `${t('blankRows')} ${report.blankRows} / ${t('summaryRows')} ${report.summaryRows} / ${t('repeatedRows')} ${report.duplicateRows}` },
            { key: 'o', label: t('ordersSeen'), children: <span data-testid="orders-seen">{report.ordersSeen}</span> },
            { key: 'i', label: t('imported'), children: <span data-testid="imported">{report.imported}</span> },
            { key: 'd', label: t('duplicates'), children: <span data-testid="duplicates">{report.duplicates}</span> },
            { key: 'u', label: t('updated'), children: <span data-testid="updated">{report.updated}</span> },
            ...(report.waiting ? [{ key: 'w', label: t('waiting'), children: <span data-testid="waiting">{report.waiting}</span> }] : []),
            { key: 'x', label: t('rejected'), children: <span data-testid="rejected-count">{report.rejected.length}</span> },
            ...(report.refusedChanges.length ? [{ key: 'c', label: t('refusedChanges'), children: <span data-testid="refused-changes-count">{report.refusedChanges.length}</span> }] : []),
            { key: 'a', label: t('autoIngestRate'), children: <span data-testid="auto-ingest-rate">{`${(report.autoIngestRate * 100).toFixed(1)}%`}</span> },
          ]} />
          {report.rejected.length > 0 && (
            <Table<Rejected> size="small" rowKey={(r) => r.quarantineId ?? `${r.channelOrderId}|${r.rowNumbers.join(',')}`} pagination={false} dataSource={report.rejected}
              columns={[
                { title: t('channelOrderId'), dataIndex: 'channelOrderId' },
                { title: t('row'), render: (_, r) => r.rowNumbers.join(', ') },
                { title: t('reason'), render: (_, r) => r.reasons.map((x) => <div key={x.code + x.column}>{text(x)}</div>) },
              ]} />
          )}
          {report.refusedChanges.length > 0 && (
            <Table<RefusedChange> size="small" data-testid="refused-changes" rowKey={(r) => `${r.channelOrderId}|${r.step}`} pagination={false} dataSource={report.refusedChanges}
              title={() => t('refusedChanges')}
              columns={[
                { title: t('channelOrderId'), dataIndex: 'channelOrderId' },
                { title: t('step'), dataIndex: 'step' },
                { title: t('reason'), render: (_, r) => reason(r) },
              ]} />
          )}
        </Card>
      )}
      <Card size="small" title={t('quarantine')}>
        <ProblemAlert error={quarantine.error} />
        <Table<Entry> size="small" rowKey="id" pagination={false} locale={{ emptyText: <EmptyText /> }}
          // An entry refused again stays listed (open) until a retry goes through.
          dataSource={(quarantine.data ?? []).filter((e) => e.status === 'open')}
          columns={[
            { title: t('channelOrderId'), render: (_, e) => <span data-testid={`q-${e.channelOrderId}`}>{e.channelOrderId}</span> },
            { title: t('reason'), render: (_, e) => e.reasons.map((x) => <Tag key={x.code + x.column} color="#9a3412">{text(x)}</Tag>) },
            {
              title: t('fixRetry'),
              render: (_, e) => {
                const refusedAgain = fixRejected[e.id];
                return (
                  <Space orientation="vertical">
                    {refusedAgain && (
                      <Alert type="error" showIcon data-testid={`fix-rejected-${e.channelOrderId}`} title={t('fixRejected')}
                        description={refusedAgain.map((x) => <div key={x.code + x.column}>{text(x)}</div>)} />
                    )}
                    {[...new Set(e.reasons.flatMap((x) => (x.column ? [x.column] : [])))].flatMap((column) => editableCells(e, column).map((cell) => {
                      const key = `${e.id}|${cell.file}|${cell.rowNumber}|${column}`;
                      const addon = cell.file === 'items' ? `${t('itemsFile')} ${t('row')} ${cell.rowNumber} ${column}` : column;
                      const testId = cell.file === 'items' ? `edit-${e.channelOrderId}-items-${cell.rowNumber}-${column}` : `edit-${e.channelOrderId}-${column}`;
                      return (
                        <Input key={key} size="small" addonBefore={addon} aria-label={`${e.channelOrderId} ${addon}`} data-testid={testId}
                          defaultValue={cell.value} onChange={(ev) => setEdits((m) => ({ ...m, [key]: { rowNumber: cell.rowNumber, column, value: ev.target.value, file: cell.file } }))} />
                      );
                    }))}
                    <Button size="small" type="primary" data-testid={`fix-${e.channelOrderId}`} loading={fix.isPending && fix.variables?.id === e.id} onClick={() => fix.mutate(e)}>{t('fixRetry')}</Button>
                  </Space>
                );
              },
            },
          ]} />
      </Card>
    </Space>
  );
}
