import { Controller, Get, Inject, NotFoundException, Param, Query, Res } from '@nestjs/common';
import { Id } from '@studio/contracts';
import { Tenant, ZodValidationPipe } from '@studio/nest';
import type { ArtifactStore, AuditRunRecord } from '@studio/pipeline';
import { tenantId, type Repository } from '@studio/ports';
import { z } from 'zod';
import { AUDIT_PORTS, AUDITS_REPOSITORY, type AuditServicePorts } from './run-audit';

const Format = z.enum(['json', 'md']).default('json');
type Format = z.infer<typeof Format>;
interface HttpResponse {
  type(contentType: string): unknown;
}

/** Audit reports: `audit/report.v1` JSON, or its Markdown rendering with `?format=md`. */
@Controller('v1')
export class ReportsController {
  private readonly artifacts: ArtifactStore;

  constructor(
    @Inject(AUDITS_REPOSITORY) private readonly audits: Repository<AuditRunRecord>,
    @Inject(AUDIT_PORTS) ports: AuditServicePorts,
  ) {
    this.artifacts = ports.artifacts;
  }

  @Get('audits/:auditRunId')
  async get(
    @Tenant() tenant: string,
    @Param('auditRunId', new ZodValidationPipe(Id, 'path parameter auditRunId')) auditRunId: string,
    @Query('format', new ZodValidationPipe(Format, 'query parameter format')) format: Format,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const audit = await this.audits.get(tenantId(tenant), auditRunId);
    if (!audit) throw new NotFoundException(`audit "${auditRunId}" not found`);
    return this.report(audit, format, res);
  }

  @Get('runs/:runId/audit')
  async ofRun(
    @Tenant() tenant: string,
    @Param('runId', new ZodValidationPipe(Id, 'path parameter runId')) runId: string,
    @Query('format', new ZodValidationPipe(Format, 'query parameter format')) format: Format,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const [audit] = await this.audits.find(tenantId(tenant), { runId }, { limit: 1 });
    if (!audit) throw new NotFoundException(`training run "${runId}" has no audit (yet)`);
    return this.report(audit, format, res);
  }

  private async report(audit: AuditRunRecord, format: Format, res: HttpResponse): Promise<unknown> {
    if (format === 'md') {
      res.type('text/markdown; charset=utf-8');
      return this.artifacts.read(audit.reportMarkdownUri);
    }
    return JSON.parse(await this.artifacts.read(audit.reportJsonUri)) as unknown;
  }
}
