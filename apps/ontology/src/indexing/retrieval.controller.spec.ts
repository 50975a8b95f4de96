import type { Concept, Relation } from '@studio/contracts';
import { ExactVectorIndex } from '@studio/inproc';
import type { ExtractedGraph } from '@studio/ontology';
import { indexClauses, type RetrievalPorts } from '@studio/pipeline';
import { tenantId, type LlmClient, type TenantId } from '@studio/ports';
import { RetrievalController, RetrieveBody, type LatestGraphs } from './retrieval.controller';

/** Every text embeds alike: the dense ranking ties (broken by id), the lexical query and the graph decide. */
const llm = { embed: async (_model: string, input: string[]) => input.map(() => [1, 0]) } as unknown as LlmClient;

const phi: Concept = {
  id: 'c-protected-health-information',
  prefLabel: 'protected health information',
  altLabels: ['PHI'],
  roles: ['term'],
  definition: { text: 'individually identifiable health information', clauseId: 'doc-1:2.1' },
  clauseIds: ['doc-1:2.1'],
  documentIds: ['doc-1'],
  origin: 'extracted',
};
const defines: Relation = {
  id: `defines:doc-1:2.1>${phi.id}`,
  type: 'defines',
  from: 'doc-1:2.1',
  to: phi.id,
  statementKind: null,
  evidence: ['doc-1:2.1'],
  status: null,
  origin: 'extracted',
};
const graph: ExtractedGraph = { concepts: [phi], relations: [defines] };

describe('POST /v1/contexts/{c}/retrieve', () => {
  const acme = tenantId('acme');
  const ports: RetrievalPorts = { llm, vectors: new ExactVectorIndex(), embeddingModel: 'emb' };
  const asked: Array<[TenantId, string]> = [];
  const graphs: LatestGraphs = {
    latest: async (tenant, contextId) => {
      asked.push([tenant, contextId]);
      return contextId === 'ctx-1' ? graph : null;
    },
  };
  const headers: Record<string, string> = {};
  const res = { setHeader: (name: string, value: string) => (headers[name] = value) };

  beforeAll(async () => {
    await indexClauses(ports, {
      tenant: acme,
      contextId: 'ctx-1',
      clauses: [
        { id: 'doc-1:1.1', documentId: 'doc-1', numbering: '1.1', title: null, text: 'Staff may send reports to a vendor.' },
        { id: 'doc-1:2.1', documentId: 'doc-1', numbering: '2.1', title: null, text: 'Protected health information means health data.' },
      ],
    });
  });
  beforeEach(() => (asked.length = 0));

  it('uses the context’s latest graph by default', async () => {
    const body = RetrieveBody.parse({ question: 'Can I send PHI to a vendor?', k: 1 });
    expect(body.ontology).toBe(true);
    const answer = await new RetrievalController(ports, graphs).retrieve('acme', 'ctx-1', body, res);
    expect(asked).toEqual([[acme, 'ctx-1']]);
    expect(answer.clauses.map((c) => c.clauseId)).toEqual(['doc-1:2.1']);
    expect(answer.ontology?.conceptIds).toEqual([phi.id]);
    expect(headers['Server-Timing']).toMatch(/^graph;dur=[\d.]+, embed;dur=[\d.]+, search;dur=[\d.]+$/);
  });

  it('searches without the graph when asked to', async () => {
    const body = RetrieveBody.parse({ question: 'Can I send PHI to a vendor?', k: 1, ontology: false });
    const answer = await new RetrievalController(ports, graphs).retrieve('acme', 'ctx-1', body, res);
    expect(asked).toEqual([]);
    expect(answer.clauses.map((c) => c.clauseId)).toEqual(['doc-1:1.1']);
    expect(answer.ontology).toBeNull();
  });

  it('searches without a graph where the context has none yet, or the service stores none', async () => {
    const body = RetrieveBody.parse({ question: 'Can I send PHI to a vendor?', k: 1 });
    for (const controller of [new RetrievalController(ports, graphs), new RetrievalController(ports)]) {
      const answer = await controller.retrieve('acme', 'ctx-1-no-graph', body, res);
      expect(answer.ontology).toBeNull();
    }
    expect(asked).toEqual([[acme, 'ctx-1-no-graph']]);
  });

  it('names a body field of the wrong type', () => {
    expect(() => RetrieveBody.parse({ question: 'q', ontology: 'yes' })).toThrow(/ontology/);
  });
});
