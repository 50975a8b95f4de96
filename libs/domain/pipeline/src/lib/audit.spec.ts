import { existsSync, rmSync } from 'node:fs';
import { parseAuditThresholds, type AuditReportV1 } from '@studio/auditing';
import { tenantKey, type ChatMessage, type ChatRequest, type VectorQuery } from '@studio/ports';
import {
  auditAdapter,
  clauseSourceOf,
  ragSystemPrompt,
  readConversationalItems,
  sampleItems,
  type AuditPorts,
  type AuditSettings,
} from './audit';
import { conceptCoverageKeys, readDatasetOntology } from './frame';
import { fakeLlm, frameAndPublish, openHarness, POLICY, TENANT, type Harness } from './fixtures.spec-helper';
import { indexClauses, retrieveClauses } from './index-clauses';
import type { AdapterRecord, ClauseRecord, DatasetVersionRecord } from './records';

// The held-out part of the audit alone: the red team, benign probes and general ability are tested in red-team-audit.spec.ts.
const settings: AuditSettings = {
  maxItems: 50,
  ragTopK: 2,
  maxTokens: 64,
  concurrency: 3,
  maxAttacks: 0,
  maxBenign: 0,
  maxGeneralAbility: 0,
};

describe('audit stage', () => {
  let h: Harness;
  let framing: { dataset: DatasetVersionRecord; clauses: ClauseRecord[] };
  let references: Map<string, string>;
  const loaded: Array<[string, string]> = [];
  const llm = fakeLlm((request: ChatRequest) => {
    const question = request.messages.find((m) => m.role === 'user')?.content ?? '';
    // The base model rambles; the aligned model gives the reference answer.
    if (request.model === 'base-model') return 'I am not sure what you mean.';
    if (request.model === 'adapter-sft') return 'Yes, that is fine.';
    return references.get(question) ?? 'unknown';
  });

  beforeEach(async () => {
    llm.chats.length = 0;
    loaded.length = 0;
    h = await openHarness(llm);
    const framed = await frameAndPublish(h, { heldOutRatio: 0.3 });
    framing = { dataset: framed.dataset.dataset, clauses: framed.framed.clauses };
    await h.bus.idle();
    const heldOut = readConversationalItems(await h.artifacts.read(framing.dataset.heldOut.uri), 'held-out');
    references = new Map(heldOut.map((i) => [i.question, i.reference]));
    await indexClauses(
      { llm, vectors: h.vectors, embeddingModel: 'emb' },
      { tenant: TENANT, contextId: 'acme-conduct', clauses: framing.clauses },
    );
    h.events.length = 0;
  });
  afterEach(() => h.close());

  const adapter = (): AdapterRecord => ({
    id: 'adapter-1',
    contextId: 'acme-conduct',
    runId: 'run-1',
    method: 'sft',
    parentAdapterId: null,
    preferenceDatasetId: null,
    baseModel: 'base-model',
    datasetVersionId: framing.dataset.id,
    datasetSha256: framing.dataset.sha256,
    hyperparameters: {
      epochs: 1,
      max_steps: 1,
      learning_rate: 1e-4,
      batch_size: 1,
      gradient_accumulation_steps: 1,
      max_seq_length: 64,
      seed: 1,
      eval_ratio: 0,
      checkpoint_every_steps: 1,
      adapter: 'lora',
      lora: { r: 4, alpha: 8, dropout: 0, target_modules: 'all-linear' },
      dpo_beta: null,
    },
    artifactDir: '/artifacts/run-1',
    metrics: {},
    lossCurve: [
      { step: 1, loss: 2 },
      { step: 2, loss: 1 },
    ],
    registeredAt: '2026-01-01T00:00:00.000Z',
  });
  const ports = (extra: Partial<AuditPorts> = {}): AuditPorts => ({
    ...h,
    embeddingModel: 'emb',
    adapters: { loadAdapter: async () => undefined },
    clauses: clauseSourceOf(h.repos.clauses, { repos: h.repos, artifacts: h.artifacts }),
    audits: h.repos.audits,
    ...extra,
  });

  it('answers every held-out question with base, aligned and aligned+RAG, scores them, writes both reports and publishes the verdict', async () => {
    const result = await auditAdapter(ports({ adapters: { loadAdapter: async (name, path) => void loaded.push([name, path]) } }), {
      tenant: TENANT,
      contextId: 'acme-conduct',
      dataset: framing.dataset,
      adapter: adapter(),
      baseModel: 'base-model',
      thresholds: parseAuditThresholds({ minCorrectness: 0.8, minFaithfulness: 0.5, minClauseCoverage: 0.9 }),
      settings,
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    await h.bus.idle();

    const items = framing.dataset.heldOut.examples;
    expect(loaded).toEqual([['adapter-1', '/artifacts/run-1']]);
    expect(llm.chats).toHaveLength(3 * items);
    expect(llm.chats.every((c) => c.temperature === 0 && c.max_tokens === 64)).toBe(true);
    expect(new Set(llm.chats.map((c) => c.model))).toEqual(new Set(['base-model', 'adapter-1']));
    const ragPrompts = llm.chats.filter((c) => c.messages[0]?.content.includes('Relevant clauses:'));
    expect(ragPrompts).toHaveLength(items);
    expect(ragPrompts.every((c) => c.model === 'adapter-1')).toBe(true);

    const report: AuditReportV1 = result.report;
    expect(Object.keys(report.scores).sort()).toEqual(['aligned', 'aligned_rag', 'base']);
    expect(report.scores.aligned?.correctness).toBe(1);
    expect(report.scores.base?.correctness).toBeLessThan(0.3);
    expect(report.buckets.only_aligned_right).toBe(items);
    expect(report.verdict).toBe('pass');
    expect(report.dataAudit?.nearDuplicates?.threshold).toBe(0.9);
    // Every clause of the fixture policy is cited by some example.
    expect(report.checks.find((c) => c.metric === 'data.clauseCoverage')).toEqual({
      metric: 'data.clauseCoverage',
      value: 1,
      threshold: 0.9,
      comparator: '>=',
      passed: true,
    });
    expect(existsSync(h.artifacts.pathOf(result.reportJsonUri))).toBe(true);
    expect(await h.artifacts.read(result.reportMarkdownUri)).toContain('aligned + RAG');
    expect(JSON.parse(await h.artifacts.read(result.reportJsonUri))).toEqual(report);
    expect(h.events.map((e) => e.topic)).toEqual(['audit.run.completed.v1', 'audit.verdict.issued.v1']);
    expect(h.events[1]?.event.data).toMatchObject({ verdict: 'pass', runId: 'run-1', reportUri: result.reportJsonUri });
    expect((await h.repos.audits.get(TENANT, result.record.id))?.verdict).toBe('pass');
  });

  it('retrieves for the RAG variant with the concept graph the dataset was measured against, and without one when it has none', async () => {
    const query = jest.spyOn(h.vectors, 'query');
    const queries = (): VectorQuery[] => query.mock.calls.map(([, q]) => q);
    const input = {
      tenant: TENANT,
      contextId: 'acme-conduct',
      dataset: framing.dataset,
      adapter: adapter(),
      baseModel: 'base-model',
      thresholds: parseAuditThresholds({ minCorrectness: 0.8 }),
      settings,
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    expect(await readDatasetOntology(h.artifacts, TENANT, framing.dataset.id)).not.toBeNull();
    await auditAdapter(ports(), input);
    // With a graph, a question that names a concept is searched densely and (expanded) lexically apart, then fused with the graph's ranking.
    const apart = queries().filter((q) => (q.dense === undefined) !== (q.sparse === undefined));
    expect(apart.length).toBeGreaterThan(0);

    query.mockClear();
    rmSync(h.artifacts.localPath(tenantKey(TENANT, conceptCoverageKeys(framing.dataset.id).ontology)));
    await auditAdapter(ports(), { ...input, createdAt: '2026-01-02T00:00:00.000Z' });
    expect(queries().length).toBeGreaterThan(0);
    expect(queries().every((q) => q.dense !== undefined && q.sparse !== undefined)).toBe(true);
  });

  it('answers the sft variant with the parent adapter of a DPO adapter, and names the lineage', async () => {
    const result = await auditAdapter(ports({ adapters: { loadAdapter: async (name, path) => void loaded.push([name, path]) } }), {
      tenant: TENANT,
      contextId: 'acme-conduct',
      dataset: framing.dataset,
      adapter: {
        ...adapter(),
        id: 'adapter-dpo',
        runId: 'run-dpo',
        method: 'dpo',
        preferenceDatasetId: 'pd-1',
      },
      parent: { id: 'adapter-sft', runId: 'run-sft', artifactDir: '/artifacts/run-sft' },
      baseModel: 'base-model',
      thresholds: parseAuditThresholds({}),
      settings,
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    const items = framing.dataset.heldOut.examples;
    expect(loaded).toEqual([
      ['adapter-dpo', '/artifacts/run-1'],
      ['adapter-sft', '/artifacts/run-sft'],
    ]);
    expect(llm.chats).toHaveLength(4 * items);
    const sftChats = llm.chats.filter((c) => c.model === 'adapter-sft');
    expect(sftChats).toHaveLength(items);
    expect(sftChats.some((c) => c.messages[0]?.content.includes('Relevant clauses:'))).toBe(false);
    const report = result.report;
    expect(Object.keys(report.scores)).toEqual(['base', 'sft', 'aligned', 'aligned_rag']);
    expect(report.scores.sft?.correctness).toBeLessThan(report.scores.aligned.correctness);
    expect(report.models.parent).toBe('adapter-sft');
    expect(report.lineage).toEqual({
      adapterId: 'adapter-dpo',
      runId: 'run-dpo',
      method: 'dpo',
      datasetVersionId: framing.dataset.id,
      parentAdapterId: 'adapter-sft',
      parentRunId: 'run-sft',
      preferenceDatasetId: 'pd-1',
    });
    // The held-out scenarios are broken down by label, as the dataset counts them.
    const kinds = report.kinds.map((k) => k.kind);
    expect(kinds.length).toBeGreaterThan(0);
    expect(kinds.every((k) => k === 'qa' || /^scenario:(compliant|violating|ambiguous)$/.test(k))).toBe(true);
    expect(report.kinds.reduce((n, k) => n + k.items, 0)).toBe(items);
    expect(await h.artifacts.read(result.reportMarkdownUri)).toContain('| metric | base | SFT | SFT + DPO | SFT + DPO + RAG |');
  });

  it('records as stale an audit of a dataset whose examples cite clauses a later document version replaced', async () => {
    const input = {
      tenant: TENANT,
      contextId: 'acme-conduct',
      dataset: framing.dataset,
      adapter: adapter(),
      baseModel: 'base-model',
      thresholds: parseAuditThresholds({ minCorrectness: 0.8, minFaithfulness: 0.5 }),
      settings,
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    expect((await auditAdapter(ports(), input)).record.stale).toBeNull();
    // Version 2 of the document changes clause 1.2: examples on it cite a clause no longer current.
    await frameAndPublish(h, { policy: POLICY.replace('up to $50', 'up to $25'), heldOutRatio: 0.3 });
    const stale = (await auditAdapter(ports(), { ...input, createdAt: '2026-02-01T00:00:00.000Z' })).record.stale;
    expect(stale).toMatchObject({ since: '2026-02-01T00:00:00.000Z', revisions: [] });
    expect(stale?.staleExamples).toBeGreaterThan(0);
    expect(stale?.reason).toMatch(/^\d+ of the audited dataset's examples cite clauses that are no longer current$/);
  });

  it("adds the LLM judge's grades to every variant when a judge is given", async () => {
    const graded: string[] = [];
    const judge = {
      judge: async (input: { answer: string }) => {
        graded.push(input.answer);
        return { score: 0.75, raw: 4, reason: 'mostly right', error: null };
      },
    };
    const result = await auditAdapter(ports({ judge: { judge, model: 'judge-model' } }), {
      tenant: TENANT,
      contextId: 'acme-conduct',
      dataset: framing.dataset,
      adapter: adapter(),
      baseModel: 'base-model',
      thresholds: parseAuditThresholds({ minCorrectness: 0.8, minFaithfulness: 0.5 }),
      settings,
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    expect(graded).toHaveLength(3 * framing.dataset.heldOut.examples);
    expect(result.report.scores.base?.judge).toBe(0.75);
    expect(result.report.scores.aligned_rag?.judge).toBe(0.75);
    expect(result.report.models.judge).toBe('judge-model');
  });

  it("scores every variant's answers with the context's reward model, beside the lexical metrics", async () => {
    const loadedRewards: Array<[string, string]> = [];
    const scored: ChatMessage[][] = [];
    // A reward model that likes answers citing a clause ("(§…)", as the references do) and dislikes the rest.
    const rewards = {
      loadRewardModel: async (name: string, path: string) => void loadedRewards.push([name, path]),
      score: async (model: string, conversations: ChatMessage[][]) => {
        expect(model).toBe('reward-1');
        scored.push(...conversations);
        return conversations.map((c) => (/\(§/.test(c[c.length - 1]?.content ?? '') ? 2 : -1));
      },
    };
    const input = {
      tenant: TENANT,
      contextId: 'acme-conduct',
      dataset: framing.dataset,
      adapter: adapter(),
      baseModel: 'base-model',
      thresholds: parseAuditThresholds({ minCorrectness: 0.8, minFaithfulness: 0.5 }),
      settings,
      createdAt: '2026-01-01T00:00:00.000Z',
      rewardModel: { id: 'reward-1', runId: 'run-reward-1', artifactDir: '/artifacts/run-reward-1' },
    };
    const result = await auditAdapter(ports({ rewards }), input);
    const items = framing.dataset.heldOut.examples;

    expect(loadedRewards).toEqual([['reward-1', '/artifacts/run-reward-1']]);
    expect(scored).toHaveLength(3 * items);
    // Every variant is scored as the answer to the same prompt: the training system prompt and the question, no retrieved clauses.
    expect(scored.every((c) => c.length === 3 && c[0]?.content === framing.dataset.systemPrompt && c[2]?.role === 'assistant')).toBe(true);
    expect(result.report.rewards).toEqual({
      model: { adapterId: 'reward-1', runId: 'run-reward-1' },
      items,
      means: { base: -1, aligned: 2, aligned_rag: 2 },
    });
    expect(result.report.results.every((r) => r.variants.base.reward === -1 && r.variants.aligned.reward === 2)).toBe(true);
    expect(await h.artifacts.read(result.reportMarkdownUri)).toMatch(/\| reward \(mean\) \| -1\.000 \| 2\.000 \| 2\.000 \|/);
    // The verdict does not read the rewards (no gate yet).
    expect(result.report.verdict).toBe((await auditAdapter(ports(), { ...input, rewardModel: null })).report.verdict);

    // A DPO round's audit: the parent (SFT) adapter's answers are scored too, and have their mean.
    const round = await auditAdapter(ports({ rewards }), {
      ...input,
      adapter: { ...adapter(), id: 'adapter-dpo', runId: 'run-dpo', method: 'dpo', preferenceDatasetId: 'pd-1' },
      parent: { id: 'adapter-sft', runId: 'run-sft', artifactDir: '/artifacts/run-sft' },
    });
    expect(Object.keys(round.report.rewards?.means ?? {}).sort()).toEqual(['aligned', 'aligned_rag', 'base', 'sft']);
    expect(round.report.results.every((r) => typeof r.variants.sft?.reward === 'number')).toBe(true);

    await expect(auditAdapter(ports(), input)).rejects.toThrow('the audit was given reward model reward-1 but no reward scorer');
    const short = { ...rewards, score: async (_model: string, conversations: ChatMessage[][]) => conversations.slice(1).map(() => 0) };
    await expect(auditAdapter(ports({ rewards: short }), input)).rejects.toThrow(
      /reward model reward-1 returned \d+ scores for \d+ base answers/,
    );
  });

  it('fails the verdict when the aligned model is no better than the thresholds, or the data covers too few clauses', async () => {
    await h.repos.clauses.upsert(TENANT, {
      id: 'acme-cg:9.9:000000000000',
      contextId: 'acme-conduct',
      documentId: 'acme-cg',
      position: 99,
      numbering: '9.9',
      title: null,
      text: 'A clause no example cites.',
    });
    const result = await auditAdapter(ports(), {
      tenant: TENANT,
      contextId: 'acme-conduct',
      dataset: framing.dataset,
      adapter: { ...adapter(), id: 'base-model' },
      baseModel: 'base-model',
      thresholds: parseAuditThresholds({ minCorrectness: 0.8, minClauseCoverage: 1 }),
      settings: { ...settings, maxItems: 2 },
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    expect(result.report.items).toBe(2);
    expect(result.report.verdict).toBe('fail');
    expect(result.report.checks.find((c) => c.metric === 'aligned.correctness')?.passed).toBe(false);
    const coverage = result.report.checks.find((c) => c.metric === 'data.clauseCoverage');
    expect(coverage).toMatchObject({ threshold: 1, passed: false });
    expect(coverage?.value).toBeCloseTo(result.report.dataAudit?.clauseCoverage.coverage ?? -1);
    expect(coverage?.value).toBeLessThan(1);
  });

  it('gates the concept coverage measured on the dataset version the run trained on, failing with the reason when it was not measured', async () => {
    const measured = framing.dataset.conceptCoverage;
    expect(measured?.concepts.total).toBeGreaterThan(0);
    const share = measured?.concepts.share ?? -1;
    const run = (dataset: typeof framing.dataset, minConceptCoverage: number) =>
      auditAdapter(ports(), {
        tenant: TENANT,
        contextId: 'acme-conduct',
        dataset,
        adapter: adapter(),
        baseModel: 'base-model',
        thresholds: parseAuditThresholds({
          minCorrectness: 0,
          minFaithfulness: 0,
          maxRefusalRate: 1,
          baseTolerance: null,
          minConceptCoverage,
        }),
        settings: { ...settings, maxItems: 1 },
        createdAt: '2026-01-01T00:00:00.000Z',
      });
    const met = (await run(framing.dataset, share)).report.checks.find((c) => c.metric === 'data.conceptCoverage');
    expect(met).toMatchObject({ value: share, threshold: share, passed: true });
    const short = {
      ...framing.dataset,
      conceptCoverage: measured ? { ...measured, concepts: { ...measured.concepts, share: share / 2 } } : null,
    };
    const low = await run(short, share);
    expect(low.report.checks.find((c) => c.metric === 'data.conceptCoverage')).toMatchObject({ value: share / 2, passed: false });
    expect(low.report.verdict).toBe('fail');
    const unmeasured = await run({ ...framing.dataset, conceptCoverage: null }, 0.5);
    expect(unmeasured.report.checks.find((c) => c.metric === 'data.conceptCoverage')).toMatchObject({
      passed: false,
      reason: expect.stringMatching(/no measured concept coverage/),
    });
    expect(unmeasured.report.verdict).toBe('fail');
  }, 30_000);

  it('retrieves the clauses that share the question’s terms first', async () => {
    const hits = await retrieveClauses(
      { llm, vectors: h.vectors, embeddingModel: 'emb' },
      { tenant: TENANT, contextId: 'acme-conduct' },
      'Who do I report a data breach to?',
      2,
    );
    expect(hits[0]?.numbering).toBe('2.2');
    expect(ragSystemPrompt('Rules.', hits)).toMatch(/^Rules\.\n\nRelevant clauses:\n\(§2\.2\) Managers must report/);
    expect(ragSystemPrompt('Rules.', [])).toBe('Rules.');
  });

  it('samples the same items every time, covering every kind', () => {
    const items = [
      ...Array.from({ length: 6 }, (_, i) => ({ id: `q${i}`, kind: 'qa' })),
      { id: 's1', kind: 'scenario' },
      { id: 's2', kind: 'scenario' },
    ];
    expect(sampleItems(items, 4).map((i) => i.id)).toEqual(['q0', 's1', 'q1', 's2']);
    expect(sampleItems([...items].reverse(), 4)).toEqual(sampleItems(items, 4));
    expect(sampleItems(items, 20)).toHaveLength(8);
  });

  it('names the line of a malformed held-out file', () => {
    expect(() => readConversationalItems('{"id":"a"}\n', 'held-out.jsonl')).toThrow(/held-out\.jsonl:1: messages/);
  });
});
