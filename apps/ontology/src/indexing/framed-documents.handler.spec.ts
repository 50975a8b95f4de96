import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildCloudEvent,
  CLAUSES_INDEXED_V1,
  DOCUMENT_FRAMED_V1,
  DOCUMENT_REVISED_V1,
  type CloudEvent,
  type DocumentFramedV1,
  type DocumentRevisedV1,
} from '@studio/contracts';
import { ExactVectorIndex, InMemoryArtifactStore, InProcessEventBus, SqliteStore } from '@studio/inproc';
import { CLAUSE_INDEXES, retrieveClauses, type ClauseRecord } from '@studio/pipeline';
import { tenantId, type LlmClient } from '@studio/ports';
import { CONFLICT_DECISIONS, ONTOLOGY_GRAPHS, ONTOLOGY_HEADS, ONTOLOGY_IMPORTS, ONTOLOGY_SOURCES } from '../graph/graph-records';
import { FramedDocumentsHandler } from './framed-documents.handler';

const words = ['gift', 'cash', 'record', 'confidential', 'breach'];
const embed = (text: string) => words.map((w) => (text.toLowerCase().includes(w) ? 1 : 0.01));
const llm = { embed: async (_model: string, input: string[]) => input.map(embed) } as unknown as LlmClient;

const clause = (position: number, numbering: string, text: string): ClauseRecord => ({
  id: `doc-1:${numbering}:${String(position).padStart(12, '0')}`,
  contextId: 'ctx-1',
  documentId: 'doc-1',
  position,
  numbering,
  title: null,
  text,
});
const clauses = [
  clause(0, '1.1', 'Employees must not accept cash gifts.'),
  clause(1, '1.2', 'Record every gift.'),
  clause(2, '2.1', 'Report a breach.'),
];

describe('the ontology indexes the clauses a framed event points to', () => {
  let dir: string;
  let store: SqliteStore;
  let bus: InProcessEventBus;
  const indexed: CloudEvent<unknown>[] = [];
  const artifacts = new InMemoryArtifactStore();
  const vectors = new ExactVectorIndex();

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ontology-'));
    store = SqliteStore.open(dir, 'ontology');
    bus = new InProcessEventBus();
    bus.subscribe(CLAUSES_INDEXED_V1, async (event) => void indexed.push(event));
    await bus.start();
  });
  afterEach(async () => {
    await bus.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
    indexed.length = 0;
  });

  async function framed(count = clauses.length): Promise<CloudEvent<DocumentFramedV1>> {
    const file = await artifacts.put('tenants/acme/documents/doc-1/x.clauses.jsonl', clauses.map((c) => JSON.stringify(c)).join('\n'));
    return buildCloudEvent<DocumentFramedV1>({
      topic: DOCUMENT_FRAMED_V1,
      source: '/studio/framer',
      tenantId: 'acme',
      contextId: 'ctx-1',
      data: {
        version: 'v1',
        contextId: 'ctx-1',
        documentId: 'doc-1',
        documentSha256: 'a'.repeat(64),
        clauseCount: count,
        statementCount: 3,
        statementsByKind: { obligation: 1, prohibition: 1, permission: 0, exception: 0, definition: 0 },
        clauseIds: clauses.map((c) => c.id),
        clausesUri: file.uri,
      },
    });
  }

  const handler = () =>
    new FramedDocumentsHandler(
      { bus, eventSource: '/studio/ontology' },
      { llm, vectors, embeddingModel: 'emb' },
      store.repository(CLAUSE_INDEXES),
      artifacts,
      {
        bus,
        eventSource: '/studio/ontology',
        artifacts,
        repos: {
          graphs: store.repository(ONTOLOGY_GRAPHS),
          heads: store.repository(ONTOLOGY_HEADS),
          sources: store.repository(ONTOLOGY_SOURCES),
          imports: store.repository(ONTOLOGY_IMPORTS),
          decisions: store.repository(CONFLICT_DECISIONS),
        },
      },
    );

  it('reads them from the artifact store (no call to the framer), indexes them, records the index and publishes ontology.clauses.indexed', async () => {
    await handler().onDocumentFramed(await framed());
    await bus.idle();
    const acme = tenantId('acme');
    expect(await store.repository(CLAUSE_INDEXES).find(acme)).toEqual([
      expect.objectContaining({ documentId: 'doc-1', clauseCount: 3, dimensions: words.length, embeddingModel: 'emb' }),
    ]);
    expect(indexed.map((e) => e.data)).toEqual([expect.objectContaining({ documentId: 'doc-1', clauseCount: 3 })]);
    const hits = await retrieveClauses({ llm, vectors, embeddingModel: 'emb' }, { tenant: acme, contextId: 'ctx-1' }, 'a cash gift?', 1);
    expect(hits.map((h) => h.numbering)).toEqual(['1.1']);
  });

  it('refuses a clauses file that does not hold the clauses the event counts, indexing nothing', async () => {
    await expect(handler().onDocumentFramed(await framed(4))).rejects.toThrow(/holds 3 clauses; the framed event says 4/);
    await bus.idle();
    expect(indexed).toEqual([]);
    expect(await store.repository(CLAUSE_INDEXES).count(tenantId('acme'))).toBe(0);
  });

  it('removes the clauses a revision replaced from the index, so retrieval finds current clauses only', async () => {
    await handler().onDocumentFramed(await framed());
    const acme = tenantId('acme');
    const ask = async () =>
      (await retrieveClauses({ llm, vectors, embeddingModel: 'emb' }, { tenant: acme, contextId: 'ctx-1' }, 'a cash gift?', 3)).map(
        (h) => h.numbering,
      );
    expect(await ask()).toContain('1.1');
    const revised = buildCloudEvent<DocumentRevisedV1>({
      topic: DOCUMENT_REVISED_V1,
      source: '/studio/framer',
      tenantId: 'acme',
      contextId: 'ctx-1',
      data: {
        version: 'v1',
        contextId: 'ctx-1',
        documentId: 'doc-1',
        fromVersion: 1,
        toVersion: 2,
        fromSha256: 'a'.repeat(64),
        toSha256: 'b'.repeat(64),
        summary: { unchanged: 2, moved: 0, changed: 0, added: 0, removed: 1 },
        staleClauseIds: [clauses[0]?.id as string],
        addedClauseIds: [],
        staleDatasetVersions: [],
      },
    });
    await handler().onDocumentRevised(revised);
    await handler().onDocumentRevised(revised); // redelivered: nothing more to remove
    expect(await ask()).toEqual(expect.arrayContaining(['1.2', '2.1']));
    expect(await ask()).not.toContain('1.1');
  });
});
