import { AuditThresholds } from '@studio/auditing';
import { ContextValue } from '@studio/framing';
import { ContextId } from '@studio/contracts';
import { ContextValues, type SeedLine } from '@studio/framing';
import { SERVICE_TOKEN_HEADER, TENANT_HEADER } from '@studio/nest';
import { ClauseRecord, ClauseStatement, DatasetVersionRecord } from '@studio/pipeline';
import { z } from 'zod';

export const FRAMER_CLIENT = Symbol('FRAMER_CLIENT');

const Context = z.object({
  id: ContextId,
  thresholds: AuditThresholds,
  // The values file, as the framer stores it: only its values are read here (its gates are in thresholds).
  values: z
    .object({ values: z.array(ContextValue) })
    .nullable()
    .default(null),
});

/** What an audit needs of its context: the release gates (clause coverage among them) and its values (the red team's success per value). */
export interface AuditContext {
  thresholds: AuditThresholds;
  values: ContextValue[];
}
const Clauses = z.object({ clauses: z.array(ClauseRecord) });
const ContextWithValues = z.object({ values: ContextValues.nullable() });
/** A current clause with the normative statements framing found in it (`?annotate=true`). */
export const AnnotatedClause = ClauseRecord.extend({ statements: z.array(ClauseStatement) });
export type AnnotatedClause = z.infer<typeof AnnotatedClause>;
const AnnotatedClauses = z.object({ clauses: z.array(AnnotatedClause) });
const AddedSeed = z.object({ seedId: z.string().min(1), added: z.boolean() });

/** The framer refused a request: `status` is its HTTP status (404: no such dataset version or context for the tenant). */
export class FramerAnswerError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'FramerAnswerError';
  }
}

/** The framer's HTTP API as the auditor reads it: a dataset version, the context's thresholds and clauses. */
export class FramerClient {
  /** @param serviceToken the deployment's SERVICE_TOKEN: the framer refuses calls without it. */
  constructor(
    private readonly baseUrl: string,
    private readonly serviceToken: string,
  ) {}

  dataset(tenant: string, contextId: string, datasetVersionId: string): Promise<DatasetVersionRecord> {
    return this.get(
      tenant,
      `/v1/contexts/${encodeURIComponent(contextId)}/datasets/${encodeURIComponent(datasetVersionId)}`,
      DatasetVersionRecord,
      `dataset version ${datasetVersionId}`,
    );
  }

  async context(tenant: string, contextId: string): Promise<AuditContext> {
    const context = await this.get(tenant, `/v1/contexts/${encodeURIComponent(contextId)}`, Context, `context ${contextId}`);
    return { thresholds: context.thresholds, values: context.values?.values ?? [] };
  }

  /** The context's values file (null when it has none): what generated attacks name as their values. */
  async values(tenant: string, contextId: string): Promise<ContextValues | null> {
    return (await this.get(tenant, `/v1/contexts/${encodeURIComponent(contextId)}`, ContextWithValues, `context ${contextId}`)).values;
  }

  /** The context's current clauses with their normative statements (the framer's annotated clause view). */
  async annotatedClauses(tenant: string, contextId: string): Promise<AnnotatedClause[]> {
    const path = `/v1/contexts/${encodeURIComponent(contextId)}/clauses?annotate=true`;
    return (await this.get(tenant, path, AnnotatedClauses, `annotated clauses of ${contextId}`)).clauses;
  }

  /** The context's current clauses, or those a dataset version was generated from. */
  async clauses(tenant: string, contextId: string, datasetVersionId?: string): Promise<ClauseRecord[]> {
    const query = datasetVersionId ? `?datasetVersionId=${encodeURIComponent(datasetVersionId)}` : '';
    const what = datasetVersionId ? `clauses of dataset version ${datasetVersionId}` : `clauses of ${contextId}`;
    return (await this.get(tenant, `/v1/contexts/${encodeURIComponent(contextId)}/clauses${query}`, Clauses, what)).clauses;
  }

  /**
   * Adds a seed example to the context's seeds (the framer's seed path): `added` false when the
   * same seed was there already. A refusal (404 context, 409 taken id or qna.yaml seeds, 422
   * unknown clause) is a FramerAnswerError with the framer's status.
   */
  async addSeed(tenant: string, contextId: string, seed: SeedLine): Promise<{ seedId: string; added: boolean }> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}/v1/contexts/${encodeURIComponent(contextId)}/seeds`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { [TENANT_HEADER]: tenant, [SERVICE_TOKEN_HEADER]: this.serviceToken, 'content-type': 'application/json' },
        body: JSON.stringify(seed),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new Error(`adding seed ${seed.id} at the framer (${url}) failed`, { cause: error });
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, 500);
      try {
        const body = JSON.parse(text) as { message?: unknown };
        if (body.message !== undefined) message = String(body.message);
      } catch {
        // not JSON: the text is the message
      }
      throw new FramerAnswerError(res.status, `the framer refused seed ${seed.id}: ${message}`);
    }
    const parsed = AddedSeed.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`the framer's answer to adding seed ${seed.id} is not in the expected shape`);
    return parsed.data;
  }

  private async get<S extends z.ZodType>(tenant: string, path: string, schema: S, what: string): Promise<z.infer<S>> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { [TENANT_HEADER]: tenant, [SERVICE_TOKEN_HEADER]: this.serviceToken },
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new Error(`reading ${what} from the framer at ${url} failed`, { cause: error });
    }
    if (!res.ok)
      throw new FramerAnswerError(res.status, `framer answered HTTP ${res.status} for ${what}: ${(await res.text()).slice(0, 300)}`);
    const parsed = schema.safeParse(await res.json());
    if (!parsed.success)
      throw new Error(
        `framer's ${what} is not in the expected shape: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    return parsed.data;
  }
}
