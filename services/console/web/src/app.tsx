import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { Alert, App as AntApp, Button, Card, ConfigProvider, Layout, Menu, Select, Space, Spin, Typography } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import { BrowserRouter, Link, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { I18nProvider, roleName, useI18n, type UiKey } from './i18n';
import { AnalyticsPage } from './pages/analytics';
import { ApprovalsPage } from './pages/approvals';
import { BoardPage } from './pages/board';
import { ImportsPage } from './pages/imports';
import { InventoryPage } from './pages/inventory';
import { OrderDetailPage } from './pages/order-detail';
import { OrdersPage } from './pages/orders';
import { PortalPage } from './pages/portal';
import { RulesPage } from './pages/rules';
import { WarehousePage } from './pages/warehouse';
import { loginUrl, SessionProvider, useSession, type Screen } from './session';

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
  const visible = SCREENS.filter((s) => session.sees(s.key));
  const selected = visible.find((s) => location.pathname.startsWith(s.path))?.key;
  const guard = (screen: Screen, el: React.ReactElement) => (session.sees(screen) ? el : <Typography.Text>{t('noPermission')}</Typography.Text>);
  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Header style={{ display: 'flex', alignItems: 'center', gap: 24, paddingInline: 16 }}>
        <Typography.Title level={1} style={{ color: '#fff', margin: 0, fontSize: 18, whiteSpace: 'nowrap' }}>
          {t('appTitle')}
        </Typography.Title>
        <nav aria-label={t('appTitle')} style={{ flex: 1, minWidth: 0 }}>
          <Menu
            theme="dark"
            mode="horizontal"
            selectedKeys={selected ? [selected] : []}
            items={visible.map((s) => ({ key: s.key, label: <Link to={s.path} data-testid={`nav-${s.key}`}>{t(s.label)}</Link> }))}
          />
        </nav>
        <Space>
          <Typography.Text style={{ color: '#fff', whiteSpace: 'nowrap' }} data-testid="user-name" title={session.user.roles.map((r) => pick(roleName(r))).join(', ')}>
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
      </Layout.Header>
      <Layout.Content style={{ padding: 16 }}>
        <main>
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
            <Route path="/portal/*" element={<PortalPage />} />
            <Route path="*" element={<SessionProvider login={<LoginScreen />} loading={<Spin style={{ margin: '20vh auto', display: 'block' }} />}><Shell /></SessionProvider>} />
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
