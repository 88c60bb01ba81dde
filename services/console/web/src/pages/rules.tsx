import { Typography } from 'antd';
import { useI18n } from '../i18n';

/** Not built yet (see services/console/README.md). */
export function RulesPage() {
  const { t } = useI18n();
  return <Typography.Title level={2}>{t('rules')}</Typography.Title>;
}
