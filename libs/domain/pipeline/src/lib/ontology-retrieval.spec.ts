import type { Concept, Relation } from '@studio/contracts';
import { ExactVectorIndex } from '@studio/inproc';
import type { ExtractedGraph } from '@studio/ontology';
import { encodeSparse, termIndex, tenantId, type LlmClient, type VectorHit } from '@studio/ports';
import { indexClauses, retrieveClausesTimed, type RetrievalPorts } from './index-clauses';
import { expandedSparse, EXPANSION_WEIGHT, fractionalRanks, fuseWithGraph, GRAPH_WEIGHT, ontologyQuery } from './ontology-retrieval';

const concept = (id: string, prefLabel: string, altLabels: string[] = [], definedBy: string | null = null): Concept => ({
  id,
  prefLabel,
  altLabels,
  roles: definedBy ? ['term'] : ['object'],
  definition: definedBy ? { text: `what ${prefLabel} means`, clauseId: definedBy } : null,
  clauseIds: [],
  documentIds: ['doc'],
  origin: 'extracted',
});

const relation = (type: Relation['type'], from: string, to: string, statementKind: Relation['statementKind'] = null): Relation => ({
  id: `${type}:${from}>${to}${statementKind ? `:${statementKind}` : ''}`,
  type,
  from,
  to,
  statementKind,
  evidence: [from],
  status: null,
  origin: 'extracted',
});

const PHI = 'c-protected-health-information';
const ENTITY = 'c-covered-entity';
const GIFT = 'c-gift';

/** A small graph: PHI (defined by 1.1, governed by 2.1), covered entity (2.1, 2.2), gift with two narrower concepts. */
const graph: ExtractedGraph = {
  concepts: [
    concept(PHI, 'protected health information', ['PHI'], 'doc:1.1'),
    concept(ENTITY, 'covered entity'),
    concept(GIFT, 'gift'),
    concept('c-cash-gift', 'cash gift', ['cash equivalent']),
    concept('c-hospitality', 'hospitality'),
    { ...concept('c-accept-gift', 'accept gift'), roles: ['action'] },
  ],
  relations: [
    relation('defines', 'doc:1.1', PHI),
    relation('governs', 'doc:2.1', PHI, 'prohibition'),
    relation('governs', 'doc:2.1', ENTITY, 'prohibition'),
    relation('governs', 'doc:2.2', ENTITY, 'permission'),
    relation('governs', 'doc:3.1', 'c-cash-gift', 'prohibition'),
    relation('governs', 'doc:3.2', GIFT, 'obligation'),
    relation('broader', 'c-cash-gift', GIFT),
    relation('broader', 'c-hospitality', GIFT),
    // An action under the object it concerns: not a kind of gift, not an expansion.
    relation('broader', 'c-accept-gift', GIFT),
  ],
};

const CLAUSES = [
  { id: 'doc:1.1', numbering: '1.1', text: 'Protected health information means individually identifiable health information.' },
  { id: 'doc:2.1', numbering: '2.1', text: 'A covered entity must not disclose protected health information without an authorization.' },
  { id: 'doc:2.2', numbering: '2.2', text: 'A covered entity may disclose records to a health oversight agency.' },
  { id: 'doc:3.1', numbering: '3.1', text: 'Employees must not accept cash or vouchers from a supplier.' },
  { id: 'doc:3.2', numbering: '3.2', text: 'Employees must register every gift in the gift register.' },
  { id: 'doc:4.1', numbering: '4.1', text: 'Visitors sign in at reception.' },
];

/**
 * Every text gets the same embedding: the dense ranking is then a tie broken by clause id, so
 * what the ontology changes is the sparse query and the graph ranking alone.
 */
const flatEmbeddings: LlmClient = {
  chat: () => Promise.reject(new Error('not used')),
  // eslint-disable-next-line require-yield
  async *chatStream() {
    throw new Error('not used');
  },
  embed: async (_model, input) => input.map(() => [1, 0, 0]),
  listModels: async () => ['emb'],
};

const hit = (id: string): VectorHit => ({ id, score: 0, payload: { tenantId: 't', contextId: 'c', clauseId: id } });

describe('ontology in retrieval', () => {
  describe('query expansion', () => {
    it('adds nothing but the narrower labels when the question says a concept as its label does', () => {
      expect(ontologyQuery(graph, 'May employees take a gift?')?.use.expansion.map((e) => e.term)).toEqual([
        'cash',
        'equivalent',
        'hospitality',
      ]);
    });

    it('adds the other labels of a concept the question names by its abbreviation, at the expansion weight', () => {
      const plan = ontologyQuery(graph, 'May I send PHI to a vendor?');
      expect(plan?.use.conceptIds).toEqual([PHI]);
      expect(plan?.use.expansion).toEqual([
        { term: 'health', weight: EXPANSION_WEIGHT },
        { term: 'information', weight: EXPANSION_WEIGHT },
        { term: 'protected', weight: EXPANSION_WEIGHT },
      ]);
      const weights = new Map(plan?.sparse.indices.map((index, i) => [index, plan.sparse.values[i]]));
      expect(weights.get(termIndex('phi'))).toBe(1);
      expect(weights.get(termIndex('protected'))).toBe(EXPANSION_WEIGHT);
      expect(weights.get(termIndex('vendor'))).toBe(1);
    });

    it('adds the labels of narrower concepts, which share one expansion weight, and not terms the question has', () => {
      const plan = ontologyQuery(graph, 'May employees take gifts from a supplier?');
      expect(plan?.use.conceptIds).toEqual([GIFT]);
      // "gifts" names the concept: its label's own form is a new term for the (unstemmed) lexical query.
      expect(plan?.use.expansion).toEqual([
        { term: 'gift', weight: EXPANSION_WEIGHT },
        { term: 'cash', weight: EXPANSION_WEIGHT / 2 },
        { term: 'equivalent', weight: EXPANSION_WEIGHT / 2 },
        { term: 'hospitality', weight: EXPANSION_WEIGHT / 2 },
      ]);
    });

    it('names the action where the question says it, and expands no action as a narrower term', () => {
      const plan = ontologyQuery(graph, 'Can employees accept gifts?');
      expect(plan?.use.conceptIds).toEqual(['c-accept-gift']);
      expect(plan?.use.expansion).toEqual([{ term: 'gift', weight: EXPANSION_WEIGHT }]);
      expect(ontologyQuery(graph, 'May employees take a gift?')?.use.expansion.some((e) => e.term === 'accept')).toBe(false);
    });

    it('keeps the weight of a question term that an expansion repeats', () => {
      const sparse = expandedSparse('gift gift', [
        { term: 'gift', weight: 0.1 },
        { term: 'cash', weight: 0.3 },
      ]);
      const weights = new Map(sparse.indices.map((index, i) => [index, sparse.values[i]]));
      expect(weights.get(termIndex('gift'))).toBeCloseTo(1 + Math.log(2));
      expect(weights.get(termIndex('cash'))).toBe(0.3);
      expect(sparse.indices).toEqual([...sparse.indices].sort((a, b) => a - b));
      expect(expandedSparse('gift gift', [])).toEqual(encodeSparse('gift gift'));
    });

    it('does nothing for a question that names no concept', () => {
      expect(ontologyQuery(graph, 'Where do visitors sign in?')).toBeNull();
    });
  });

  describe('boosting', () => {
    it('ranks the clauses that define or govern the named concepts, a clause linked to more of them first', () => {
      const plan = ontologyQuery(graph, 'Must a covered entity protect PHI?');
      expect(new Set(plan?.use.conceptIds)).toEqual(new Set([ENTITY, PHI]));
      // 2.1 governs both; 1.1 (defines PHI) and 2.2 (governs covered entity) tie for positions 2 and 3.
      expect([...(plan?.graphRanks ?? [])].sort()).toEqual([
        ['doc:1.1', 2.5],
        ['doc:2.1', 1],
        ['doc:2.2', 2.5],
      ]);
      expect(plan?.use.boostedClauseIds).toEqual(['doc:2.1', 'doc:1.1', 'doc:2.2']);
    });

    it('does not boost the clauses of narrower concepts', () => {
      expect(ontologyQuery(graph, 'May employees take a gift?')?.use.boostedClauseIds).toEqual(['doc:3.2']);
    });

    it('gives tied scores the mean of their positions', () => {
      const ranks = fractionalRanks(
        new Map([
          ['a', 2],
          ['b', 1],
          ['c', 1],
          ['d', 0.5],
        ]),
      );
      expect(Object.fromEntries(ranks)).toEqual({ a: 1, b: 2.5, c: 2.5, d: 4 });
    });

    it('adds the weighted graph rank to the reciprocal rank fusion of the candidates', () => {
      const fused = fuseWithGraph(
        [
          [hit('x'), hit('y')],
          [hit('y'), hit('x'), hit('z')],
        ],
        new Map([
          ['x', 1],
          ['w', 1],
        ]),
        3,
      );
      expect(fused.map((h) => h.id)).toEqual(['x', 'y', 'z']);
      expect(fused[0]?.score).toBeCloseTo(1 / 61 + 1 / 62 + GRAPH_WEIGHT / 61, 12);
      expect(fused[1]?.score).toBeCloseTo(1 / 62 + 1 / 61, 12);
      expect(fused[2]?.score).toBeCloseTo(1 / 63, 12);
      // Without the graph the two are tied and ordered by id; a clause no ranking found ('w') is not pulled in.
      expect(
        fuseWithGraph(
          [
            [hit('y'), hit('x')],
            [hit('x'), hit('y')],
          ],
          new Map(),
          5,
        ).map((h) => h.id),
      ).toEqual(['x', 'y']);
    });
  });

  describe('retrieveClausesTimed with a graph', () => {
    const tenant = tenantId('acme');
    const scope = { tenant, contextId: 'ctx' };
    let ports: RetrievalPorts;

    beforeAll(async () => {
      ports = { llm: flatEmbeddings, vectors: new ExactVectorIndex(), embeddingModel: 'emb' };
      await indexClauses(ports, {
        tenant,
        contextId: 'ctx',
        clauses: CLAUSES.map((c) => ({ ...c, documentId: 'doc', title: null })),
      });
    });

    it('finds the clauses about a concept the question names only by its abbreviation', async () => {
      const question = 'May I send PHI to a vendor?';
      const plain = await retrieveClausesTimed(ports, scope, question, 3);
      expect(plain.ontology).toBeNull();
      // Lexically only "may" matches: 2.2 comes first without the ontology.
      expect(plain.clauses[0]?.clauseId).toBe('doc:2.2');
      const withGraph = await retrieveClausesTimed(ports, scope, question, 3, { ontology: graph });
      expect(withGraph.clauses.slice(0, 2).map((c) => c.clauseId)).toEqual(['doc:1.1', 'doc:2.1']);
      expect(withGraph.clauses[0]?.numbering).toBe('1.1');
      expect(withGraph.clauses[0]?.text).toMatch(/^Protected health information means/);
      expect(withGraph.ontology?.conceptIds).toEqual([PHI]);
    });

    it('retrieves as without a graph when the question names no concept, or the graph is null', async () => {
      const question = 'Where do visitors sign in at reception?';
      const plain = await retrieveClausesTimed(ports, scope, question, 3);
      expect(plain.clauses[0]?.clauseId).toBe('doc:4.1');
      for (const ontology of [graph, null]) {
        const again = await retrieveClausesTimed(ports, scope, question, 3, { ontology });
        expect(again.clauses).toEqual(plain.clauses);
        expect(again.ontology).toBeNull();
      }
    });
  });
});
