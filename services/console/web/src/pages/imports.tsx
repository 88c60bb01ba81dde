import { Typography } from 'antd';
import { useI18n } from '../i18n';

/** Not built yet (see services/console/README.md). */
export function ImportsPage() {
  const { t } = useI18n();
  return <Typography.Title level={2}>{t('imports')}</Typography.Title>;
}
