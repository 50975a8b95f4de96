import {
  Controller,
  Get,
  Inject,
  InternalServerErrorException,
  NotFoundException,
  Param,
  Post,
  Query,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import { auditReportView, MalformedAuditReportError, parseStoredAuditReport } from '@studio/auditing';
import { describeError, EVALUATE_RUN_JOB, Id, type AuditStatusV1 } from '@studio/contracts';
import { Tenant, ZodValidationPipe } from '@studio/nest';
import type { ArtifactStore, AuditRunRecord } from '@studio/pipeline';
import { tenantId, type JobQueue, type Repository, type TenantId } from '@studio/ports';
import { z } from 'zod';
import { AUDIT_CANDIDATES_REPOSITORY, auditFailure, auditStateOf, auditStatusOf, type AuditCandidate } from '../candidates/audit-candidate';
import { EVALUATION_QUEUE_PORT, RequestAudit } from './request-audit';
import { AUDIT_PORTS, AUDITS_REPOSITORY, type AuditServicePorts } from './run-audit';

const Format = z.enum(['json', 'md']).default('json');
type Format = z.infer<typeof Format>;
interface HttpResponse {
  type(contentType: string): unknown;
  status(code: number): unknown;
}

/**
 * Audit reports (`audit/report.v1` JSON, or Markdown with `?format=md`), the state of a run's
 * audit while it has no report, and re-audits.
 */
@Controller('v1')
export class ReportsController {
  private readonly artifacts: ArtifactStore;

  constructor(
    @Inject(AUDITS_REPOSITORY) private readonly audits: Repository<AuditRunRecord>,
    @Inject(AUDIT_CANDIDATES_REPOSITORY) private readonly candidates: Repository<AuditCandidate>,
    @Inject(EVALUATION_QUEUE_PORT) private readonly queue: JobQueue,
    @Inject(AUDIT_PORTS) ports: AuditServicePorts,
    private readonly requestAudit: RequestAudit,
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

  /**
   * The report of the run's audit once it has completed; until then (and when it has failed)
   * the audit's state: `AuditStatusV1`. The run's audit is the one its candidate last requested.
   */
  @Get('runs/:runId/audit')
  async ofRun(
    @Tenant() tenant: string,
    @Param('runId', new ZodValidationPipe(Id, 'path parameter runId')) runId: string,
    @Query('format', new ZodValidationPipe(Format, 'query parameter format')) format: Format,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<unknown> {
    const candidate = await this.candidate(tenantId(tenant), runId);
    const audit = await this.auditOf(tenantId(tenant), candidate);
    if (audit) return this.report(audit, format, res);
    return auditStatusOf(candidate);
  }

  /**
   * Re-audit: queues a new attempt of a failed audit, or of one recorded but never queued (202).
   * Idempotent: while the audit is queued or running nothing more is queued (202 with its
   * state); a completed audit is not re-run (200 with its state: the same adapter, held-out set
   * and settings give the same report).
   */
  @Post('runs/:runId/audit')
  async reaudit(
    @Tenant() tenant: string,
    @Param('runId', new ZodValidationPipe(Id, 'path parameter runId')) runId: string,
    @Res({ passthrough: true }) res: HttpResponse,
  ): Promise<AuditStatusV1> {
    const found = await this.candidate(tenantId(tenant), runId);
    const candidate = (await this.auditOf(tenantId(tenant), found)) ? { ...found, status: 'audited' as const } : found;
    const state = auditStateOf(candidate);
    if (state === 'completed') {
      res.status(200);
      return auditStatusOf(candidate);
    }
    res.status(202);
    // Recorded but never queued (awaiting-audit) is requested too: with the same job id as the
    // event handler's request, so it is queued once.
    if (candidate.status === 'queued' || candidate.status === 'running') return auditStatusOf(candidate);
    try {
      return auditStatusOf(await this.requestAudit.execute(tenantId(tenant), candidate));
    } catch (error) {
      throw new ServiceUnavailableException(`could not queue the audit of training run "${runId}": ${describeError(error)}`);
    }
  }

  /** The run's candidate, its state reconciled with its job (404 when the auditor has no such run). */
  private async candidate(tenant: TenantId, runId: string): Promise<AuditCandidate> {
    const candidate = await this.candidates.get(tenant, runId);
    if (!candidate)
      throw new NotFoundException(
        `training run "${runId}" has no audit: the auditor has not seen it complete (it audits a run when training.run.completed arrives)`,
      );
    return this.reconciled(candidate);
  }

  /**
   * The record of the run's audit once it exists. The audit writes it before it publishes its
   * events, and the candidate is marked audited after them: a client that saw the verdict event
   * gets the report, not a state that is a moment behind.
   */
  private async auditOf(tenant: TenantId, candidate: AuditCandidate): Promise<AuditRunRecord | null> {
    return candidate.auditRunId ? this.audits.get(tenant, candidate.auditRunId) : null;
  }

  /**
   * A job can end without its handler recording it: the worker died in an attempt and BullMQ
   * gave up on the stalled job. Its queue state then wins over the recorded "queued"/"running".
   */
  private async reconciled(candidate: AuditCandidate): Promise<AuditCandidate> {
    if ((candidate.status !== 'queued' && candidate.status !== 'running') || !candidate.jobId) return candidate;
    const job = await this.queue.status(EVALUATE_RUN_JOB, candidate.jobId).catch(() => null);
    if (!job) return candidate;
    if (job.state === 'failed' || job.state === 'cancelled')
      return {
        ...candidate,
        status: 'failed',
        attempts: Math.max(candidate.attempts, job.attemptsMade),
        nextAttemptAt: null,
        error: candidate.error ?? auditFailure(new Error(job.failedReason ?? 'the audit job failed'), job.attemptsMade, new Date()),
      };
    if (job.state === 'active' && candidate.status === 'queued') return { ...candidate, status: 'running', nextAttemptAt: null };
    return candidate;
  }

  /**
   * The report as written, with the audit's `stale` mark: null, or why the verdict speaks of
   * rules that have since changed (a document revision changed clauses its dataset's examples cite).
   */
  private async report(audit: AuditRunRecord, format: Format, res: HttpResponse): Promise<unknown> {
    if (format === 'md') {
      const markdown = await this.stored(audit, audit.reportMarkdownUri);
      res.type('text/markdown; charset=utf-8');
      return audit.stale ? `> **Stale audit** (${audit.stale.since}): ${audit.stale.reason}.\n\n${markdown}` : markdown;
    }
    const text = await this.stored(audit, audit.reportJsonUri);
    try {
      const report = parseStoredAuditReport(text, `${audit.id} (${audit.reportJsonUri})`);
      // What the studio shows beside the report: the outcome buckets with their items, per-clause compliance.
      return { ...report, stale: audit.stale, ...auditReportView(report) };
    } catch (error) {
      // The request is fine and the audit exists: what the auditor stored is broken. A 500 that
      // names the report and each problem (the gateway answers 502 with it, naming the auditor).
      if (error instanceof MalformedAuditReportError)
        throw new InternalServerErrorException({
          message: error.message,
          problem: 'malformed-report',
          auditRunId: audit.id,
          issues: error.issues,
        });
      throw error;
    }
  }

  /** A stored report file of the audit, or a 500 naming the audit, the file and why it cannot be read. */
  private async stored(audit: AuditRunRecord, uri: string): Promise<string> {
    try {
      return await this.artifacts.read(uri);
    } catch (error) {
      throw new InternalServerErrorException({
        message: `stored audit report ${audit.id} (${uri}) cannot be read: ${describeError(error)}`,
        problem: 'unreadable-report',
        auditRunId: audit.id,
      });
    }
  }
}
