import { randomUUID } from 'node:crypto';
import { ConflictException, HttpException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { tenantId, type Repository } from '@studio/ports';
import { AccessError } from '../auth/access-errors';
import type { Principal } from '../auth/principal';
import { can } from '../auth/permissions';
import { ServiceClient } from '../upstream/service-client';
import { type CurrentDeployment, type DeployRequest, type DeploymentAudit, type DeploymentRecord } from './chat-schemas';
import { DEPLOYMENT_CACHE_SETTINGS, DeploymentCache, type DeploymentCacheSettings } from './deployment-cache';
import { MODEL_SERVER, type ModelServer } from './model-server';

export const DEPLOYMENT_HISTORY_REPOSITORY = Symbol('DEPLOYMENT_HISTORY_REPOSITORY');
export const CURRENT_DEPLOYMENTS_REPOSITORY = Symbol('CURRENT_DEPLOYMENTS_REPOSITORY');
export const DEPLOYMENT_AUDIT_LOG = Symbol('DEPLOYMENT_AUDIT_LOG');

/** The part of the gateway's audit log (auth/audit-log.ts) that deployments write to. */
export interface DeploymentAuditLog {
  record(entry: { actor: Principal; action: string; target: string; before?: unknown; after?: unknown }): Promise<unknown>;
}

/** What the instructor answers for GET /v1/runs/{runId} (the fields a deployment needs). */
interface RunView {
  id: string;
  contextId: string;
  state: string;
  datasetVersionId: string;
  baseModel: string;
  adapterId: string | null;
  adapter: { id: string; artifactDir: string } | null;
}

/** What the auditor answers for GET /v1/runs/{runId}/audit: the report (with a verdict) or the audit's state. */
interface AuditView {
  auditRunId?: string;
  verdict?: string;
  state?: string;
  stale?: unknown;
}

/** The audit log's view of a deployment: what changed, without the prompt. */
function summary(d: Pick<DeploymentRecord, 'id' | 'runId' | 'adapterId' | 'audit' | 'override'> | null) {
  return d ? { deploymentId: d.id, runId: d.runId, adapterId: d.adapterId, audit: d.audit, override: d.override } : null;
}

/**
 * Deployment: an operator marks an audited adapter as its context's model. The run must have
 * completed with an adapter (instructor) and its audit must have issued a PASS verdict that is not
 * stale (auditor); otherwise only a caller with `deployments:override` (admins) may deploy it, with
 * a reason. The adapter is loaded into the model server first (a deployment that cannot serve is
 * refused), then the deployment is recorded, made current and written to the audit log with the
 * previous deployment as `before`.
 */
@Injectable()
export class Deployments {
  /** What chats are served from (see DeploymentCache: at most CHAT_DEPLOYMENT_CACHE_MS old). */
  private readonly serving: DeploymentCache;

  constructor(
    @Inject(ServiceClient) private readonly upstream: ServiceClient,
    @Inject(DEPLOYMENT_HISTORY_REPOSITORY) private readonly history: Repository<DeploymentRecord>,
    @Inject(CURRENT_DEPLOYMENTS_REPOSITORY) private readonly current: Repository<CurrentDeployment>,
    @Inject(MODEL_SERVER) private readonly modelServer: ModelServer,
    @Inject(DEPLOYMENT_AUDIT_LOG) private readonly auditLog: DeploymentAuditLog,
    @Inject(DEPLOYMENT_CACHE_SETTINGS) cacheSettings: DeploymentCacheSettings,
  ) {
    this.serving = new DeploymentCache((tenant, contextId) => this.currentOf(tenant, contextId), cacheSettings);
  }

  async deploy(caller: Principal, contextId: string, request: DeployRequest): Promise<{ created: boolean; deployment: CurrentDeployment }> {
    const tenant = tenantId(caller.tenant);
    if (request.override && !can(caller.role, 'deployments:override'))
      throw AccessError.permissionDenied(caller.role, 'deployments:override');
    const run = (
      await this.upstream.forward('instructor', {
        method: 'GET',
        path: `/v1/runs/${encodeURIComponent(request.runId)}`,
        tenant: caller.tenant,
      })
    ).body as RunView;
    if (run.contextId !== contextId) throw new NotFoundException(`training run "${request.runId}" not found in context "${contextId}"`);
    if (run.state !== 'completed' || !run.adapter)
      throw new ConflictException(`training run "${run.id}" is ${run.state}: only a completed run with an adapter can be deployed`);
    const audit = await this.auditOf(caller.tenant, run.id);
    const passed = audit.verdict === 'pass' && !audit.stale;
    if (!passed && !request.override)
      throw new ConflictException({
        message: `the audit of training run "${run.id}" ${verdictWords(audit)}: only an adapter whose audit passed can be deployed, unless an admin overrides it with a reason (override.reason)`,
        audit,
      });
    const before = await this.current.get(tenant, contextId);
    if (before && before.runId === run.id && !request.override) return { created: false, deployment: before };

    const dataset = (
      await this.upstream.forward('framer', {
        method: 'GET',
        path: `/v1/contexts/${encodeURIComponent(contextId)}/datasets/${encodeURIComponent(run.datasetVersionId)}`,
        tenant: caller.tenant,
      })
    ).body as { systemPrompt: string };
    const adapter = { adapterId: run.adapter.id, adapterDir: run.adapter.artifactDir };
    await this.modelServer.ensureLoaded(adapter);

    const record: DeploymentRecord = {
      id: `dep-${randomUUID()}`,
      contextId,
      runId: run.id,
      ...adapter,
      baseModel: run.baseModel,
      datasetVersionId: run.datasetVersionId,
      systemPrompt: dataset.systemPrompt,
      audit,
      override: request.override && !passed ? { reason: request.override.reason } : null,
      previousDeploymentId: before?.deploymentId ?? null,
      deployedAt: new Date().toISOString(),
      deployedBy: { subject: caller.subject, name: caller.name, role: caller.role },
    };
    await this.history.upsert(tenant, record);
    const deployment: CurrentDeployment = { ...record, id: contextId, deploymentId: record.id };
    await this.current.upsert(tenant, deployment);
    // This replica's chats use it from now on; the others' within CHAT_DEPLOYMENT_CACHE_MS.
    this.serving.put(tenant, deployment);
    await this.auditLog.record({
      actor: caller,
      action: record.override ? 'deployment.overridden' : 'deployment.created',
      target: `context:${contextId}`,
      before: summary(before ? { ...before, id: before.deploymentId } : null),
      after: summary(record),
    });
    return { created: true, deployment };
  }

  /** The context's current deployment, read from the database (what the deployment API answers). */
  async currentOf(tenant: string, contextId: string): Promise<CurrentDeployment | null> {
    return this.current.get(tenantId(tenant), contextId);
  }

  /**
   * The deployment a chat is served from: the current one as read at most CHAT_DEPLOYMENT_CACHE_MS
   * ago (a deployment made through this replica at once).
   */
  async servingOf(tenant: string, contextId: string): Promise<CurrentDeployment | null> {
    return this.serving.get(tenant, contextId);
  }

  async historyOf(tenant: string, contextId: string, limit: number): Promise<DeploymentRecord[]> {
    return this.history.find(tenantId(tenant), { contextId }, { sort: { deployedAt: -1 }, limit });
  }

  async deployedModels(tenant: string): Promise<CurrentDeployment[]> {
    return this.current.find(tenantId(tenant), {}, { sort: { deployedAt: -1 }, limit: 1_000 });
  }

  /** The run's audit: its verdict, or its state (`missing` when the auditor has not seen the run complete). */
  private async auditOf(tenant: string, runId: string): Promise<DeploymentAudit> {
    let view: AuditView;
    try {
      view = (await this.upstream.forward('auditor', { method: 'GET', path: `/v1/runs/${encodeURIComponent(runId)}/audit`, tenant }))
        .body as AuditView;
    } catch (error) {
      if (error instanceof HttpException && error.getStatus() === 404) return { auditRunId: null, verdict: 'missing', stale: false };
      throw error;
    }
    return {
      auditRunId: view.auditRunId ?? null,
      verdict: view.verdict ?? view.state ?? 'missing',
      stale: view.stale !== undefined && view.stale !== null,
    };
  }
}

function verdictWords(audit: DeploymentAudit): string {
  if (audit.verdict === 'missing') return 'is missing (the auditor has not audited it)';
  if (audit.verdict === 'pass') return `(${audit.auditRunId}) passed but is stale: the clauses it was audited on have changed`;
  if (audit.verdict === 'fail') return `(${audit.auditRunId}) issued the verdict FAIL`;
  return `has no verdict yet (it is ${audit.verdict})`;
}
