import { ContextId, Id } from '@studio/contracts';
import { ContextValues, Example } from '@studio/framing';
import { z } from 'zod';
import { ServiceAnswerError, ServiceApi } from './service-api';

export const FRAMER_CLIENT = Symbol('FRAMER_CLIENT');

const ContextSettings = z.object({ id: ContextId, values: ContextValues.nullable() });
const DatasetVersion = z.object({ id: Id, contextId: ContextId, systemPrompt: z.string().min(1) });
const ExamplePage = z.object({ total: z.number().int().min(0), examples: z.array(z.unknown()) });

/** Examples asked for per page (the framer's most). */
const PAGE = 500;

/**
 * The framer's HTTP API as the reward-model service reads it: a context's values (the importance
 * and priorities that weigh preferences), a dataset version's system prompt and its examples.
 */
export class FramerClient {
  private readonly api: ServiceApi;

  constructor(baseUrl: string, serviceToken: string) {
    this.api = new ServiceApi('framer', baseUrl, serviceToken);
  }

  /** The context's values file; null when it has none, or no settings at all (a context known by its documents only). */
  async values(tenant: string, contextId: string, signal?: AbortSignal): Promise<ContextValues | null> {
    try {
      const context = await this.api.get(tenant, `/v1/contexts/${encodeURIComponent(contextId)}`, ContextSettings, `context ${contextId}`, {
        signal,
      });
      return context.values;
    } catch (error) {
      if (error instanceof ServiceAnswerError && error.status === 404) return null;
      throw error;
    }
  }

  /** What the pairs of a dataset version need of it: its system prompt. */
  async dataset(tenant: string, contextId: string, datasetVersionId: string, signal?: AbortSignal): Promise<{ systemPrompt: string }> {
    const path = `/v1/contexts/${encodeURIComponent(contextId)}/datasets/${encodeURIComponent(datasetVersionId)}`;
    return this.api.get(tenant, path, DatasetVersion, `dataset version ${datasetVersionId}`, { signal });
  }

  /**
   * Every example of a split of a dataset version, in the framer's order (the dataset browser's
   * route, a page at a time). Throws ServiceAnswerError 404 (no such version) or 409 (a version
   * that keeps only its training splits).
   */
  async examples(
    tenant: string,
    contextId: string,
    datasetVersionId: string,
    split: 'train' | 'heldOut',
    signal?: AbortSignal,
  ): Promise<Example[]> {
    const base = `/v1/contexts/${encodeURIComponent(contextId)}/datasets/${encodeURIComponent(datasetVersionId)}/examples`;
    const out: Example[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.api.get(
        tenant,
        `${base}?split=${split}&offset=${offset}&limit=${PAGE}`,
        ExamplePage,
        `examples of dataset version ${datasetVersionId}`,
        { signal },
      );
      page.examples.forEach((raw, i) => {
        const parsed = Example.safeParse(raw);
        if (!parsed.success)
          throw new Error(
            `example ${offset + i} of dataset version ${datasetVersionId} is not in the expected shape: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`,
          );
        out.push(parsed.data);
      });
      if (page.examples.length === 0 || offset + page.examples.length >= page.total) return out;
    }
  }
}
