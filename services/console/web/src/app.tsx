import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { Alert, App as AntApp, Button, Card, ConfigProvider, Drawer, Grid, Layout, Menu, Select, Space, Spin, Typography } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import { lazy, Suspense, useEffect, useState } from 'react';
import { BrowserRouter, Link, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import './app.css';
import { ErrorBoundary } from './error-boundary';
import { I18nProvider, roleName, useI18n, type UiKey } from './i18n';
import { loginUrl, SessionProvider, useSession, type Screen } from './session';

// Each screen is its own chunk, loaded when first opened: the charts (ECharts) of the board and
// analytics, the rules editor and the rest stay out of the first load (the login screen, the portal).
const named = <K extends string>(load: () => Promise<Record<K, React.ComponentType>>, name: K) => lazy(async () => ({ default: (await load())[name] }));
const AnalyticsPage = named(() => import('./pages/analytics'), 'AnalyticsPage');
const ApprovalsPage = named(() => import('./pages/approvals'), 'ApprovalsPage');
const BoardPage = named(() => import('./pages/board'), 'BoardPage');
const ImportsPage = named(() => import('./pages/imports'), 'ImportsPage');
const InventoryPage = named(() => import('./pages/inventory'), 'InventoryPage');
const OrderDetailPage = named(() => import('./pages/order-detail'), 'OrderDetailPage');
const OrdersPage = named(() => import('./pages/orders'), 'OrdersPage');
const PortalPage = named(() => import('./pages/portal'), 'PortalPage');
const RulesPage = named(() => import('./pages/rules'), 'RulesPage');
const WarehousePage = named(() => import('./pages/warehouse'), 'WarehousePage');

const Loading = () => <Spin style={{ margin: '20vh auto', display: 'block' }} />;

const queryClient = new QueryClient({ defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } } });

const SCREENS: { key: Screen; label: UiKey; path: string }[] = [
  { key: 'board', label: 'board', path: '/board' },
  { key: 'orders', label: 'orders', path: '/orders' },
  { key: 'approvals', label: 'approvals', path: '/approvals' },
  { key: 'warehouse', label: 'warehouse', path: '/warehouse' },
  { key: 'inventory', label: 'inventory', path: '/inventory' },
  { key: 'imports', label: 'imports', path: '/imports' },
  { key: 'rules', label: 'rules', path: '/rules' },
  { key: 'analytics', label: 'analytics', path: '/analytics' },
];

function Shell() {
  const { t, lang, setLang, pick } = useI18n();
  const session = useSession();
  const location = useLocation();
  // Below antd's md breakpoint (768 px: phones) the menu and the user's controls move into a drawer
  // behind a menu button: a horizontal menu has no room there and shrank to nothing.
  const phone = Grid.useBreakpoint().md === false;
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [location.pathname]);
  const visible = SCREENS.filter((s) => session.sees(s.key));
  const selected = visible.find((s) => location.pathname.startsWith(s.path))?.key;
  const guard = (screen: Screen, el: React.ReactElement) => (session.sees(screen) ? el : <Typography.Text>{t('noPermission')}</Typography.Text>);
  const menu = (mode: 'horizontal' | 'inline') => (
    <nav aria-label={t('appTitle')} style={mode === 'horizontal' ? { flex: 1, minWidth: 0 } : undefined}>
      <Menu
        theme={mode === 'horizontal' ? 'dark' : 'light'}
        mode={mode}
        selectedKeys={selected ? [selected] : []}
        // A choice closes the phone menu, also the screen already shown (no route change to close it).
        onClick={() => setMenuOpen(false)}
        items={visible.map((s) => ({ key: s.key, label: <Link to={s.path} data-testid={`nav-${s.key}`}>{t(s.label)}</Link> }))}
      />
    </nav>
  );
  const user = (
    <Space wrap>
      <Typography.Text style={{ color: phone ? undefined : '#fff', whiteSpace: 'nowrap' }} data-testid="user-name" title={session.user.roles.map((r) => pick(roleName(r))).join(', ')}>
        {session.user.name ?? session.user.subject}
      </Typography.Text>
      <Button size="small" data-testid="logout" onClick={() => void session.logout()}>{t('logout')}</Button>
      <Select
        aria-label={t('language')}
        data-testid="lang"
        value={lang}
        onChange={(l: 'zh' | 'en') => setLang(l)}
        style={{ width: 100 }}
        options={[
          { value: 'zh', label: '中文' },
          { value: 'en', label: 'English' },
        ]}
      />
    </Space>
  );
  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Header style={{ display: 'flex', alignItems: 'center', gap: phone ? 12 : 24, paddingInline: phone ? 12 : 16 }}>
        <Typography.Title level={1} style={{ color: '#fff', margin: 0, fontSize: phone ? 16 : 18, whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis', flex: phone ? 1 : undefined, minWidth: 0 }}>
          {t('appTitle')}
        </Typography.Title>
        {phone ? (
          <Button data-testid="nav-toggle" aria-expanded={menuOpen} aria-controls="console-menu" onClick={() => setMenuOpen(true)}>
            <span aria-hidden="true">☰ </span>{t('menu')}
          </Button>
        ) : (
          <>
            {menu('horizontal')}
            {user}
          </>
        )}
      </Layout.Header>
      {phone && (
        <Drawer id="console-menu" open={menuOpen} onClose={() => setMenuOpen(false)} placement="left" size={280} title={t('appTitle')} styles={{ body: { padding: 0 } }}>
          {menu('inline')}
          <div style={{ padding: 16 }}>{user}</div>
        </Drawer>
      )}
      <Layout.Content style={{ padding: phone ? 8 : 16, minWidth: 0 }}>
        <main className="console-main">
          {/* A screen that throws shows a message, the menu stays: another screen (a new path) tries again. */}
          <ErrorBoundary what={t(SCREENS.find((s) => s.key === selected)?.label ?? 'thisScreen')} resetKey={location.pathname}>
            <Suspense fallback={<Loading />}>
              <Routes>
                <Route path="/" element={<Navigate to={visible[0]?.path ?? '/board'} replace />} />
                <Route path="/board" element={guard('board', <BoardPage />)} />
                <Route path="/orders" element={guard('orders', <OrdersPage />)} />
                <Route path="/orders/:orderId" element={guard('orders', <OrderDetailPage />)} />
                <Route path="/inventory" element={guard('inventory', <InventoryPage />)} />
                <Route path="/approvals" element={guard('approvals', <ApprovalsPage />)} />
                <Route path="/warehouse" element={guard('warehouse', <WarehousePage />)} />
                <Route path="/imports" element={guard('imports', <ImportsPage />)} />
                <Route path="/rules" element={guard('rules', <RulesPage />)} />
                <Route path="/analytics" element={guard('analytics', <AnalyticsPage />)} />
                <Route path="*" element={<Typography.Text>{t('notFound')}</Typography.Text>} />
              </Routes>
            </Suspense>
          </ErrorBoundary>
        </main>
      </Layout.Content>
    </Layout>
  );
}


/** Nobody logged in: one button to the login (the issuer's page), and the reason when a login failed. */
function LoginScreen() {
  const { t, lang, setLang } = useI18n();
  const failed = new URLSearchParams(location.search).get('login_error');
  return (
    <main style={{ maxWidth: 420, margin: '10vh auto', padding: 16 }}>
      <Card>
        <Space direction="vertical" size="large" style={{ width: '100%' }}>
          <Space style={{ width: '100%', justifyContent: 'space-between' }}>
            <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>{t('appTitle')}</Typography.Title>
            <Select aria-label={t('language')} data-testid="login-lang" size="small" value={lang} onChange={(l: 'zh' | 'en') => setLang(l)} options={[{ value: 'zh', label: '中文' }, { value: 'en', label: 'English' }]} />
          </Space>
          {failed && <Alert type="error" showIcon data-testid="login-error" data-code={failed} title={`${t('loginFailed')} (${failed})`} />}
          <Typography.Paragraph>{t('loginHint')}</Typography.Paragraph>
          <Button type="primary" size="large" block data-testid="login" href={loginUrl(failed ? '/' : undefined)}>{t('login')}</Button>
        </Space>
      </Card>
    </main>
  );
}

function Localised() {
  const { lang } = useI18n();
  return (
    <ConfigProvider locale={lang === 'zh' ? zhCN : enUS} theme={{ token: { colorPrimary: '#1d4ed8', colorTextPlaceholder: '#6b6b6b', colorTextDescription: '#595959', colorTextTertiary: '#595959', colorError: '#b91c1c', colorLink: '#1d4ed8' } }}>
      <AntApp>
        <BrowserRouter>
          <Routes>
            {/* The customer portal has no staff shell and no staff session. */}
            <Route path="/portal/*" element={<Suspense fallback={<Loading />}><PortalPage /></Suspense>} />
            <Route path="*" element={<SessionProvider login={<LoginScreen />} loading={<Loading />}><Shell /></SessionProvider>} />
          </Routes>
        </BrowserRouter>
      </AntApp>
    </ConfigProvider>
  );
}

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <I18nProvider>
        <Localised />
      </I18nProvider>
    </QueryClientProvider>
  );
}
