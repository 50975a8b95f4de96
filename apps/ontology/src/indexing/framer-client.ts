import { ContextId, Id } from '@studio/contracts';
import { TENANT_HEADER } from '@studio/nest';
import { z } from 'zod';

export const FRAMER_CLIENT = Symbol('FRAMER_CLIENT');

const Clause = z.object({
  id: Id,
  contextId: ContextId,
  documentId: Id,
  numbering: z.string().min(1),
  title: z.string().nullable(),
  text: z.string().min(1),
});
export type FramerClause = z.infer<typeof Clause>;
const ClausesAnswer = z.object({ clauses: z.array(Clause) });

/** The framer's HTTP API, as the ontology reads it: the clauses of a framed document. */
export class FramerClient {
  constructor(private readonly baseUrl: string) {}

  async clauses(tenant: string, contextId: string, documentId: string): Promise<FramerClause[]> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}/v1/contexts/${encodeURIComponent(contextId)}/clauses?documentId=${encodeURIComponent(documentId)}`;
    const res = await fetch(url, { headers: { [TENANT_HEADER]: tenant }, signal: AbortSignal.timeout(30_000) });
    if (!res.ok)
      throw new Error(`framer answered HTTP ${res.status} for the clauses of ${documentId}: ${(await res.text()).slice(0, 300)}`);
    const parsed = ClausesAnswer.safeParse(await res.json());
    if (!parsed.success)
      throw new Error(
        `framer's clauses of ${documentId} are not in the expected shape: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    return parsed.data.clauses;
  }
}
