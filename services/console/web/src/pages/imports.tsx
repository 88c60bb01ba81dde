import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App as AntApp, Button, Card, Descriptions, Input, Progress, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { api, unwrapAs } from '../api';
import { EmptyText, ProblemAlert, useNotifyProblem } from '../components';
import { CHANNELS, useI18n } from '../i18n';

interface Reason { code: string; column?: string; zh: string; en: string }
interface Rejected { quarantineId: string; channelOrderId: string | null; rowNumbers: number[]; reasons: Reason[] }
interface Report { runId: string; rowsRead: number; ordersSeen: number; imported: number; duplicates: number; updated: number; rejected: Rejected[]; autoIngestRate?: number }
interface Table { headers: string[]; rows: { rowNumber: number; cells: string[] }[] }
interface Entry { id: string; channel: string; channelOrderId: string | null; orderTable: Table; reasons: Reason[]; status: string }
type Post = (p: string, init: unknown) => Promise<{ data?: unknown; error?: unknown; response: Response }>;

const toBase64 = (buf: ArrayBuffer) => {
  let s = '';
  const bytes = new Uint8Array(buf);
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};

/** Upload a platform export (channel-gateway), its report, and the quarantined rows: cells edited and retried. */
export function ImportsPage() {
  const { t, pick, lang } = useI18n();
  const qc = useQueryClient();
  const notify = useNotifyProblem();
  const { message } = AntApp.useApp();
  const [channel, setChannel] = useState<string>('pinduoduo');
  const [profile, setProfile] = useState<string>();
  const [progress, setProgress] = useState<number | null>(null);
  const [edits, setEdits] = useState<Record<string, string>>({});
  const profiles = useQuery({ queryKey: ['profiles'], queryFn: () => unwrapAs<{ id: string; version: number; channel: string; description: string }[]>(api.gateway.GET('/api/profiles' as never, {} as never)) });
  const quarantine = useQuery({ queryKey: ['quarantine', channel], queryFn: () => unwrapAs<Entry[]>(api.gateway.GET('/api/quarantine' as never, { params: { query: { channel } } } as never)) });
  const post = api.gateway.POST as unknown as Post;
  const upload = useMutation({
    mutationFn: async (file: File) => {
      setProgress(10);
      const contentBase64 = toBase64(await file.arrayBuffer());
      setProgress(40);
      const report = await unwrapAs<Report>(post('/api/imports', { body: { channel, ...(profile ? { profile } : {}), file: { name: file.name, contentBase64 } } }));
      setProgress(100);
      return report;
    },
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['quarantine'] }),
    onError: (e) => { setProgress(null); notify(e); },
  });
  const fix = useMutation({
    mutationFn: (e: Entry) => {
      const list = Object.entries(edits)
        .filter(([k]) => k.startsWith(`${e.id}|`))
        .map(([k, value]) => { const [, row, column] = k.split('|'); return { rowNumber: Number(row), column, value }; });
      return unwrapAs<Record<string, unknown>>(post('/api/quarantine/{id}/fix', { params: { path: { id: e.id } }, body: { edits: list } }));
    },
    onSuccess: () => { void qc.invalidateQueries({ queryKey: ['quarantine'] }); void message.success(t('done')); },
    onError: notify,
  });
  const report = upload.data;
  return (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <Typography.Title level={2} style={{ margin: 0 }}>{t('imports')}</Typography.Title>
      <Card size="small" title={t('upload')}>
        <Space wrap>
          <Select aria-label={t('channel')} style={{ width: 140 }} value={channel} onChange={setChannel} options={Object.entries(CHANNELS).map(([k, v]) => ({ value: k, label: pick(v) }))} />
          <Select aria-label={t('profile')} allowClear placeholder={t('profile')} style={{ width: 220 }} value={profile} onChange={setProfile}
            options={(profiles.data ?? []).filter((p) => p.channel === channel).map((p) => ({ value: p.id, label: `${p.id} v${p.version}` }))} />
          <input type="file" aria-label={t('upload')} data-testid="import-file" accept=".csv,.xlsx,.xls,.txt,.tsv" onChange={(e) => { const f = e.target.files?.[0]; if (f) upload.mutate(f); e.target.value = ''; }} />
          {progress !== null && <Progress aria-label={t('upload')} percent={progress} size="small" style={{ width: 160 }} status={upload.isError ? 'exception' : undefined} />}
        </Space>
      </Card>
      {report && (
        <Card size="small" title={t('report')} data-testid="import-report">
          <Descriptions size="small" column={4} items={[
            { key: 'r', label: t('rowsRead'), children: report.rowsRead },
            { key: 'o', label: t('ordersSeen'), children: report.ordersSeen },
            { key: 'i', label: t('imported'), children: <span data-testid="imported">{report.imported}</span> },
            { key: 'x', label: t('rejected'), children: <span data-testid="rejected-count">{report.rejected.length}</span> },
          ]} />
          <Table<Rejected> size="small" rowKey="quarantineId" pagination={false} dataSource={report.rejected}
            columns={[
              { title: t('channelOrderId'), dataIndex: 'channelOrderId' },
              { title: t('row'), render: (_, r) => r.rowNumbers.join(', ') },
              { title: t('reason'), render: (_, r) => r.reasons.map((x) => <div key={x.code + x.column}>{lang === 'zh' ? x.zh : x.en}</div>) },
            ]} />
        </Card>
      )}
      <Card size="small" title={t('quarantine')}>
        <ProblemAlert error={quarantine.error} />
        <Table<Entry> size="small" rowKey="id" pagination={false} dataSource={(quarantine.data ?? []).filter((e) => e.status === 'open')} locale={{ emptyText: <EmptyText /> }}
          columns={[
            { title: t('channelOrderId'), render: (_, e) => <span data-testid={`q-${e.channelOrderId}`}>{e.channelOrderId}</span> },
            { title: t('reason'), render: (_, e) => e.reasons.map((x) => <Tag key={x.code + x.column} color="#9a3412">{lang === 'zh' ? x.zh : x.en}</Tag>) },
            {
              title: t('fixRetry'),
              render: (_, e) => (
                <Space orientation="vertical">
                  {e.reasons.filter((x) => x.column).map((x) => {
                    const col = e.orderTable.headers.indexOf(x.column!);
                    const row = e.orderTable.rows[0];
                    const key = `${e.id}|${row?.rowNumber}|${x.column}`;
                    return (
                      <Input key={key} size="small" addonBefore={x.column} aria-label={`${e.channelOrderId} ${x.column}`} data-testid={`edit-${e.channelOrderId}-${x.column}`}
                        defaultValue={row?.cells[col]} onChange={(ev) => setEdits((m) => ({ ...m, [key]: ev.target.value }))} />
                    );
                  })}
                  <Button size="small" type="primary" data-testid={`fix-${e.channelOrderId}`} loading={fix.isPending} onClick={() => fix.mutate(e)}>{t('fixRetry')}</Button>
                </Space>
              ),
            },
          ]} />
      </Card>
    </Space>
  );
}
