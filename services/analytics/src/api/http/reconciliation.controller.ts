import { CurrentPrincipal, type Principal, Requires } from '@flowline/auth';
import { Body, Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ReconciliationService, type DailyReconciliation, type ImportResult } from '../../application/reconciliation.service';
import { AnalyticsRuntime } from '../../infra/analytics-runtime';
import { analyticsShops } from '../analytics-scope';
import { DailyReconciliationQueryDto, ImportSettlementDto, ReconciliationKpiQueryDto } from './dto/analytics.dto';

@ApiTags('reconciliation')
@Controller('api/analytics')
export class ReconciliationController {
  constructor(private readonly runtime: AnalyticsRuntime) {}

  // Idempotent by content: the file's sha256 is its id, so a retried upload adds nothing (imported: false).
  @Post('settlements')
  @HttpCode(200)
  @ApiOperation({ summary: 'Import a platform settlement file (Alipay/Taobao bill, JD settlement, PDD or Douyin bill); the same bytes twice import once' })
  @Requires('create', 'Import')
  importSettlement(@Body() body: ImportSettlementDto): Promise<ImportResult> {
    return this.runtime.reconciliation.importFile(body.platform, body.fileName, Buffer.from(body.contentBase64, 'base64'), new Date().toISOString());
  }

  @Get('reconciliation/daily')
  @ApiOperation({ summary: 'Daily reconciliation per order (sold vs settled vs refunded vs fees), discrepancies and the KPI orders reconciled; JSON, CSV or XLSX download' })
  @Requires('read', 'Analytics')
  async daily(@Query() q: DailyReconciliationQueryDto, @Res({ passthrough: true }) reply: FastifyReply, @CurrentPrincipal() p: Principal | undefined): Promise<DailyReconciliation | string | Buffer> {
    const r = await this.runtime.reconciliation.daily(q.platform, q.day, analyticsShops(p));
    const name = `reconciliation-${q.platform}-${q.day}`;
    if (q.format === 'csv') {
      reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`);
      return ReconciliationService.csv(r);
    }
    if (q.format === 'xlsx') {
      reply.header('content-type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet').header('content-disposition', `attachment; filename="${name}.xlsx"`);
      return ReconciliationService.xlsx(r);
    }
    return r;
  }

  @Get('reconciliation/kpi')
  @ApiOperation({ summary: 'KPI "orders reconciled" per day and in total over a range of days (at most 92)' })
  @Requires('read', 'Analytics')
  kpi(@Query() q: ReconciliationKpiQueryDto, @CurrentPrincipal() p: Principal | undefined) {
    return this.runtime.reconciliation.kpi(q.platform, q.from, q.to, analyticsShops(p));
  }
}
