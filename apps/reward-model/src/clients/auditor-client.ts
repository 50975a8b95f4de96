import { ItemResult } from '@studio/auditing';
import { ContextId, Id } from '@studio/contracts';
import { z } from 'zod';
import { ServiceApi } from './service-api';

export const AUDITOR_CLIENT = Symbol('AUDITOR_CLIENT');

/** What model-produced pairs need of an audit report: whose answers, on which dataset, and every item's answers and scores. */
export const AuditedAnswers = z.object({
  contextId: ContextId,
  auditRunId: Id,
  runId: Id,
  datasetVersionId: Id,
  results: z.array(ItemResult),
});
export type AuditedAnswers = z.infer<typeof AuditedAnswers>;

/** The auditor's HTTP API as the reward-model service reads it: an audit's report. */
export class AuditorClient {
  private readonly api: ServiceApi;

  constructor(baseUrl: string, serviceToken: string) {
    this.api = new ServiceApi('auditor', baseUrl, serviceToken, 60_000);
  }

  report(tenant: string, auditRunId: string, signal?: AbortSignal): Promise<AuditedAnswers> {
    return this.api.get(tenant, `/v1/audits/${encodeURIComponent(auditRunId)}`, AuditedAnswers, `audit ${auditRunId}`, { signal });
  }
}
