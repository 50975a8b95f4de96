import type { Concept, Relation } from '@studio/contracts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExactVectorIndex, SqliteStore } from '@studio/inproc';
import type { ExtractedGraph } from '@studio/ontology';
import { indexClauses, type RetrievalPorts } from '@studio/pipeline';
import { tenantId, type LlmClient, type TenantId } from '@studio/ports';
import {
  CONFLICT_DECISIONS,
  graphRecordId,
  ONTOLOGY_GRAPHS,
  ONTOLOGY_HEADS,
  ONTOLOGY_IMPORTS,
  ONTOLOGY_SOURCES,
  type OntologyGraphRecord,
} from '../graph/graph-records';
import { latestGraphs } from './latest-graphs';
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

const acme = tenantId('acme');

describe('POST /v1/contexts/{c}/retrieve', () => {
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

  it('searches without a graph where the context has none yet', async () => {
    const body = RetrieveBody.parse({ question: 'Can I send PHI to a vendor?', k: 1 });
    const answer = await new RetrievalController(ports, graphs).retrieve('acme', 'ctx-1-no-graph', body, res);
    expect(answer.ontology).toBeNull();
    expect(asked).toEqual([[acme, 'ctx-1-no-graph']]);
  });

  it('names a body field of the wrong type', () => {
    expect(() => RetrieveBody.parse({ question: 'q', ontology: 'yes' })).toThrow(/ontology/);
  });
});

describe('the latest graph for retrieval, from the graph store', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'latest-graphs-'));
    store = SqliteStore.open(dir, 'ontology');
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const record = (version: number, contentSha256: string, concepts: Concept[]): OntologyGraphRecord => ({
    id: graphRecordId('ctx-1', version),
    contextId: 'ctx-1',
    version,
    documents: [{ documentId: 'doc-1', sha256: 'a'.repeat(64), version: 1 }],
    concepts,
    relations: [defines],
    createdAt: '2026-01-01T00:00:00.000Z',
    contentSha256,
    clauses: [],
    previousVersion: version > 1 ? version - 1 : null,
    diff: { conceptsAdded: [], conceptsRemoved: [], relationsAdded: [], relationsRemoved: [] },
  });

  it('reads the highest version of the tenant’s context, the same object while its content is the same', async () => {
    const graphs = store.repository(ONTOLOGY_GRAPHS);
    const heads = store.repository(ONTOLOGY_HEADS);
    const latest = latestGraphs({
      repos: {
        graphs,
        heads,
        sources: store.repository(ONTOLOGY_SOURCES),
        imports: store.repository(ONTOLOGY_IMPORTS),
        decisions: store.repository(CONFLICT_DECISIONS),
      },
    });
    /** A new version as the graph store writes it: the version, then the head that names it. */
    const write = async (graph: OntologyGraphRecord) => {
      await graphs.upsert(acme, graph);
      await heads.upsert(acme, {
        id: graph.contextId,
        contextId: graph.contextId,
        version: graph.version,
        graphId: graph.id,
        contentSha256: graph.contentSha256,
      });
    };
    expect(await latest.latest(acme, 'ctx-1')).toBeNull();
    await write(record(1, 'b'.repeat(64), []));
    const first = await latest.latest(acme, 'ctx-1');
    expect(first).toEqual({ concepts: [], relations: [defines] });
    expect(await latest.latest(acme, 'ctx-1')).toBe(first);
    expect(await latest.latest(tenantId('globex'), 'ctx-1')).toBeNull();
    await write(record(2, 'c'.repeat(64), [phi]));
    expect((await latest.latest(acme, 'ctx-1'))?.concepts).toEqual([phi]);
  });
});
