import { Alert } from 'antd';
import { Component, type ErrorInfo, type ReactNode } from 'react';
import { useI18n } from './i18n';

/*
 * Its own module, without ECharts: the app shell holds one around every screen, and the charts stay
 * out of the first load.
 */

export interface BoundaryProps {
  /** What the part is, as the user reads it (its title): named in the message. */
  what: string;
  /** A new value tries the part again: new data for a chart, another screen. */
  resetKey?: unknown;
  children: ReactNode;
}

/**
 * A part of a screen that throws while rendering (ECharts refusing an option, an answer of an
 * unexpected shape) shows a readable message in the user's language in its place; the rest of the
 * screen and the app stay. React unmounts the whole app on an error no boundary catches: the blank
 * page of the browser audit.
 */
export class ErrorBoundary extends Component<BoundaryProps, { error: Error | null; resetKey: unknown }> {
  override state: { error: Error | null; resetKey: unknown } = { error: null, resetKey: this.props.resetKey };

  static getDerivedStateFromError(error: unknown): { error: Error } {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  static getDerivedStateFromProps(props: BoundaryProps, state: { resetKey: unknown }): { error: null; resetKey: unknown } | null {
    return props.resetKey !== state.resetKey ? { error: null, resetKey: props.resetKey } : null;
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.error(`${this.props.what}: could not be shown`, error, info.componentStack);
  }

  override render(): ReactNode {
    return this.state.error ? <PartFailed what={this.props.what} error={this.state.error} /> : this.props.children;
  }
}

function PartFailed({ what, error }: { what: string; error: Error }) {
  const { t } = useI18n();
  return (
    <Alert type="warning" showIcon role="alert" data-testid="part-failed" data-what={what} title={`${what}${t('cannotShowSuffix')}`}
      description={<>{t('cannotShowHint')} <code>{error.message || error.name}</code></>} />
  );
}
