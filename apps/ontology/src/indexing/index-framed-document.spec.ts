import {
  buildCloudEvent,
  DOCUMENT_FRAMED_V1,
  ONTOLOGY_UPDATED_V1,
  parseEvent,
  type CloudEvent,
  type DocumentFramedV1,
  type Topic,
} from '@studio/contracts';
import { ExactVectorIndex } from '@studio/inproc';
import { EventPublisher } from '@studio/nest';
import { retrieveClauses } from '@studio/pipeline';
import { tenantId, type EventBus, type LlmClient, type Repository, type TenantId } from '@studio/ports';
import { FramedSource } from '../sources/framed-source';
import type { FramerClause, FramerClient } from './framer-client';
import { IndexFramedDocument } from './index-framed-document';

class MapRepository implements Pick<Repository<FramedSource>, 'get' | 'upsert' | 'count'> {
  readonly rows = new Map<string, FramedSource>();
  async get(tenant: TenantId, id: string) {
    return this.rows.get(`${tenant}/${id}`) ?? null;
  }
  async upsert(tenant: TenantId, entity: FramedSource) {
    this.rows.set(`${tenant}/${entity.id}`, FramedSource.parse(entity));
  }
  async count(tenant: TenantId, filter: Partial<FramedSource> = {}) {
    return [...this.rows.entries()].filter(
      ([k, v]) => k.startsWith(`${tenant}/`) && Object.entries(filter).every(([f, x]) => v[f as keyof FramedSource] === x),
    ).length;
  }
}

/** Embeddings from letter counts: similar words, similar vectors. */
const llm: Pick<LlmClient, 'embed'> = {
  embed: async (_model, input) =>
    input.map((text) =>
      Array.from({ length: 26 }, (_, i) => (text.toLowerCase().split(String.fromCharCode(97 + i)).length - 1) / Math.max(1, text.length)),
    ),
};

const clauses: FramerClause[] = [
  {
    id: 'doc-1:1:aaa',
    contextId: 'ctx-1',
    documentId: 'doc-1',
    numbering: '1',
    title: 'Gifts',
    text: 'Employees must not accept gifts worth more than 50 EUR.',
  },
  {
    id: 'doc-1:2:bbb',
    contextId: 'ctx-1',
    documentId: 'doc-1',
    numbering: '2',
    title: 'Data',
    text: 'Customer data stays inside the company network.',
  },
];

function framed(clauseIds: string[]): CloudEvent<DocumentFramedV1> {
  return parseEvent(
    DOCUMENT_FRAMED_V1,
    buildCloudEvent<DocumentFramedV1>({
      topic: DOCUMENT_FRAMED_V1,
      source: '/studio/framer',
      tenantId: 'acme',
      contextId: 'ctx-1',
      data: {
        version: 'v1',
        contextId: 'ctx-1',
        documentId: 'doc-1',
        documentSha256: 'c'.repeat(64),
        clauseCount: clauseIds.length,
        statementCount: 2,
        statementsByKind: { obligation: 1, prohibition: 1, permission: 0, exception: 0, definition: 0 },
        clauseIds,
      },
    }),
  );
}

function setUp(served: FramerClause[]) {
  const sources = new MapRepository();
  const vectors = new ExactVectorIndex();
  const published: { topic: Topic; event: CloudEvent<unknown> }[] = [];
  const bus: EventBus = {
    publish: async (topic, event) => void published.push({ topic, event }),
    subscribe: () => undefined,
    start: async () => undefined,
    stop: async () => undefined,
  };
  const framer = { clauses: async () => served } as unknown as FramerClient;
  const retrieval = { llm: llm as LlmClient, vectors, embeddingModel: 'letters' };
  const useCase = new IndexFramedDocument(
    sources as unknown as Repository<FramedSource>,
    framer,
    retrieval,
    new EventPublisher(bus, '/studio/ontology'),
  );
  return { sources, published, retrieval, useCase };
}

describe('IndexFramedDocument', () => {
  it('indexes the framed clauses for hybrid retrieval and announces the update', async () => {
    const { sources, published, retrieval, useCase } = setUp(clauses);
    await useCase.execute(framed(clauses.map((c) => c.id)));
    expect(await sources.get(tenantId('acme'), 'doc-1')).toMatchObject({ status: 'indexed', indexedClauseCount: 2 });
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      topic: ONTOLOGY_UPDATED_V1,
      event: {
        id: `ontology-indexed-doc-1-${'c'.repeat(16)}`,
        data: { indexedClauseCount: 2, sourceDocumentIds: ['doc-1'], ontologyVersion: 1 },
      },
    });
    const [top] = await retrieveClauses(retrieval, { tenant: tenantId('acme'), contextId: 'ctx-1' }, 'may I accept a gift?', 1);
    expect(top?.clauseId).toBe('doc-1:1:aaa');
    expect(await retrieveClauses(retrieval, { tenant: tenantId('globex'), contextId: 'ctx-1' }, 'gift', 1)).toEqual([]);
  });

  it('fails (to be retried) while the framer does not have every framed clause, and publishes nothing', async () => {
    const { published, useCase } = setUp(clauses.slice(0, 1));
    await expect(useCase.execute(framed(clauses.map((c) => c.id)))).rejects.toThrow(
      /does not have 1 of the 2 clauses of doc-1 \(first: doc-1:2:bbb\)/,
    );
    expect(published).toEqual([]);
  });
});
