import { Alert, App as AntApp } from 'antd';
import * as echarts from 'echarts';
import { useEffect, useRef } from 'react';
import { ProblemError, toProblem } from './api';
import { ErrorBoundary } from './error-boundary';
import { useI18n } from './i18n';

/**
 * One ECharts chart; re-rendered when the option changes, resized with its box. An option ECharts
 * refuses (it throws from setOption) shows a message in the chart's place instead of taking the app
 * down; the next option tries again.
 */
export function EChart(props: { option: echarts.EChartsCoreOption; height?: number; label: string }) {
  return (
    <ErrorBoundary what={props.label} resetKey={props.option}>
      <EChartCanvas {...props} />
    </ErrorBoundary>
  );
}

function EChartCanvas({ option, height = 260, label }: { option: echarts.EChartsCoreOption; height?: number; label: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  useEffect(() => {
    if (!ref.current) return;
    const c = echarts.init(ref.current, undefined, { renderer: 'svg' });
    chart.current = c;
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(ref.current);
    return () => {
      ro.disconnect();
      c.dispose();
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption(option, true);
  }, [option]);
  return <div ref={ref} role="img" aria-label={label} style={{ width: '100%', height }} />;
}

/** A refusal or failure in the user's language, with the server's code. */
export function ProblemAlert({ error }: { error: unknown }) {
  const { reason, t } = useI18n();
  if (!error) return null;
  const p = error instanceof ProblemError ? error.problem : toProblem(0, { code: 'SERVICE_UNAVAILABLE', message: String(error) });
  return <Alert type="error" showIcon role="alert" data-testid="problem-alert" data-code={p.code} title={reason(p)} description={p.code !== 'SERVICE_UNAVAILABLE' ? `${p.code}: ${p.message}` : t('unavailable')} />;
}

/** The key of the toast useNotifyProblem shows. */
export const PROBLEM_MESSAGE_KEY = 'problem';

/** Toasts for mutations: the refusal in the user's language plus the server's words. */
export function useNotifyProblem() {
  const { message } = AntApp.useApp();
  const { reason } = useI18n();
  return (error: unknown) => {
    const p = error instanceof ProblemError ? error.problem : toProblem(0, { message: String(error) });
    // One problem message at a time (key PROBLEM_MESSAGE_KEY): a newer refusal replaces it, and a
    // screen whose next step succeeded takes it away (message.destroy(PROBLEM_MESSAGE_KEY)).
    void message.error({ key: PROBLEM_MESSAGE_KEY, content: <span data-testid="problem" data-code={p.code}>{`${reason(p)} — ${p.code}: ${p.message}`}</span>, duration: 8 });
  };
}

/** A table's "nothing here", dark enough to read (antd's default grey fails WCAG AA contrast). */
export function EmptyText() {
  const { t } = useI18n();
  return <span style={{ color: '#595959' }}>{t('empty')}</span>;
}
