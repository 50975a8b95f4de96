import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileArtifactStore } from '@studio/artifacts';
import { extractStatements, generateExamples, importSeeds, parseDocument, type Example } from '@studio/framing';
import { buildOntology, CoverageTracker, datasetCoverage } from '@studio/ontology';
import type { ChatRequest, ChatResult } from '@studio/ports';
import { frameUploadedDocument, generateDatasetVersion, uploadDocument } from './frame';
import { fakeLlm, openHarness, POLICY, SEEDS, TENANT } from './fixtures.spec-helper';
import type { DataReport } from './data-report';
import {
  artifactCheckpoint,
  droppedTotal,
  inventedName,
  memoryCheckpoint,
  parseTeacherReply,
  planSynthesis,
  synthesizeExamples,
  SynthesisSettings,
  TeacherUnavailableError,
  type SynthesisInput,
} from './synthesize';

const tree = parseDocument(POLICY, { documentId: 'acme', mediaType: 'text/markdown' });
const statements = extractStatements(tree);
const existing: Example[] = [...importSeeds(SEEDS, tree), ...generateExamples(tree, statements, { seed: 1 })];
const input: SynthesisInput = { tree, statements, existing, values: null };
const clause = (numbering: string) => {
  const found = tree.clauses.find((c) => c.numbering === numbering);
  if (!found) throw new Error(`no clause ${numbering}`);
  return found;
};

/** The clause numberings a request is about, read from its prompt ("[§1.1] …"). */
function promptClauses(request: ChatRequest): string[] {
  const user = request.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
  return [...user.matchAll(/^\[§([\d.a-z]+)\]/gm)].map((m) => m[1] as string);
}

type Script = (request: ChatRequest, call: number) => string;

/** A scripted teacher: answers each request with the script's reply, counting the calls. */
function scriptedTeacher(script: Script) {
  const calls: ChatRequest[] = [];
  return {
    calls,
    teacher: {
      model: 'scripted-teacher',
      llm: {
        chat: async (request: ChatRequest): Promise<ChatResult> => {
          calls.push(request);
          return {
            id: `c${calls.length}`,
            model: request.model,
            content: script(request, calls.length),
            finishReason: 'stop',
            usage: { promptTokens: 10, completionTokens: 20 },
          };
        },
      },
    },
  };
}

const reply = (examples: unknown[]) => JSON.stringify({ examples });
const kindOf = (request: ChatRequest): string => {
  const user = request.messages.at(-1)?.content ?? '';
  if (user.includes('label "violating"')) return 'violating';
  if (user.includes('label "compliant"')) return 'compliant';
  if (user.includes('label "ambiguous"')) return 'ambiguous';
  if (user.includes('need both clauses')) return 'multi';
  if (user.includes('Rewrite each')) return 'paraphrase';
  return 'qa';
};

describe('planSynthesis', () => {
  it('asks about every stated clause: Q&A, paraphrases of its questions, scenarios of the three labels and a question spanning the next clause', () => {
    const settings = SynthesisSettings.parse({});
    const tasks = planSynthesis(input, settings, 'm');
    const about11 = tasks.filter((t) => t.clauses[0]?.numbering === '1.1').map((t) => t.kind);
    expect(about11.sort()).toEqual(['multi-clause', 'paraphrase', 'qa', 'scenario-ambiguous', 'scenario-compliant', 'scenario-violating']);
    const multi = tasks.find((t) => t.kind === 'multi-clause' && t.clauses[0]?.numbering === '1.1');
    expect(multi?.clauses.map((c) => c.numbering)).toEqual(['1.1', '1.2']);
    // The last clause of a section has no partner in another section.
    expect(tasks.some((t) => t.kind === 'multi-clause' && t.clauses[0]?.numbering === '1.3')).toBe(false);
    // Few-shot from the seed that cites the clause, as a finished exchange; then the request about the clause.
    const qa = tasks.find((t) => t.kind === 'qa' && t.clauses[0]?.numbering === '1.1');
    expect(qa?.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(JSON.parse(qa?.messages[2]?.content ?? '')).toEqual({
      examples: [
        {
          question: 'Can I take a $30 gift card from a supplier?',
          answer: 'No. Gift cards count as cash, and employees must not accept cash gifts from suppliers (§1.1).',
        },
      ],
    });
    expect(qa?.messages[3]?.content).toContain(`[§1.1] ${clause('1.1').text}`);
    // Scenario requests are shown scenarios of their label, never one naming what the document does not.
    const scenarioSeed: Example = {
      id: 'seed-v',
      kind: 'scenario',
      source: 'seed',
      question: 'An employee takes a cash gift from a supplier after a contract is signed. Is this acceptable?',
      answer: 'No. Employees must not accept cash gifts from suppliers (§1.1).',
      rejected: null,
      label: 'violating',
      clauseIds: [clause('1.2').id],
      clauseRefs: ['1.2'],
      statementKind: 'prohibition',
      values: [],
    };
    const named = { ...scenarioSeed, id: 'seed-n', question: 'Priya in the Lyon office takes a cash gift. Is this acceptable?' };
    const withSeeds = planSynthesis({ ...input, existing: [named, scenarioSeed, ...existing] }, settings, 'm');
    const violating = withSeeds.find((t) => t.kind === 'scenario-violating' && t.clauses[0]?.numbering === '1.1');
    const shown = violating?.messages
      .filter((m) => m.role === 'assistant')
      .map((m) => JSON.parse(m.content) as { examples: { label: string }[] });
    expect(shown?.length).toBeGreaterThan(0);
    expect(shown?.every((r) => r.examples[0]?.label === 'violating')).toBe(true);
    expect(JSON.stringify(shown)).not.toContain('Priya');
    // Keys depend on the model and the prompt; the same inputs give the same plan.
    expect(planSynthesis(input, settings, 'm').map((t) => t.key)).toEqual(tasks.map((t) => t.key));
    expect(planSynthesis(input, settings, 'other')[0]?.key).not.toBe(tasks[0]?.key);
    expect(new Set(tasks.map((t) => t.key)).size).toBe(tasks.length);
  });

  it('limits the clauses and the kinds as asked', () => {
    const tasks = planSynthesis(input, SynthesisSettings.parse({ maxClauses: 2, kinds: ['qa', 'scenario-violating'] }), 'm');
    expect(tasks.map((t) => `${t.kind}@${t.clauses[0]?.numbering}`)).toEqual([
      'qa@1.1',
      'scenario-violating@1.1',
      'qa@1.2',
      'scenario-violating@1.2',
    ]);
  });
});

describe('a concept coverage target with a clause budget', () => {
  const graph = buildOntology([{ documentId: 'acme', sha256: tree.sha256, version: 1, tree, statements }]);
  // The dataset so far speaks of gifts only (section 1): the confidentiality concepts are not covered.
  const gifts = existing.filter((e) => e.clauseRefs.every((ref) => ref.startsWith('1.')));
  const tracker = new CoverageTracker(graph, 1);
  tracker.add(gifts);
  const steered: SynthesisInput = { ...input, existing: gifts, steering: tracker };
  /** A teacher that restates the clause it is asked about, citing it: grounded by construction. */
  const restating = () =>
    scriptedTeacher((request) => {
      const numbering = promptClauses(request)[0] as string;
      const rule = clause(numbering).text.replace(/\.$/, '');
      return reply([
        { question: `Is it true that ${rule.charAt(0).toLowerCase()}${rule.slice(1)}?`, answer: `Yes. ${rule} (§${numbering}).` },
      ]);
    });

  it('prompts about the clauses whose concepts are not covered yet instead of the first ones', () => {
    const settings = SynthesisSettings.parse({ maxClauses: 2, kinds: ['qa'] });
    expect(planSynthesis({ ...input, existing: gifts }, settings, 'm').map((t) => t.clauses[0]?.numbering)).toEqual(['1.1', '1.2']);
    const chosen = planSynthesis(steered, settings, 'm').map((t) => t.clauses[0]?.numbering as string);
    expect(chosen).toHaveLength(2);
    for (const numbering of chosen) expect(numbering.startsWith('2.')).toBe(true);
  });

  it('makes the teacher cover concepts it would not have covered with the same budget, measured by datasetCoverage', async () => {
    const settings = { maxClauses: 2, kinds: ['qa' as const] };
    const plain = await synthesizeExamples(
      { teacher: restating().teacher, checkpoint: memoryCheckpoint() },
      { ...input, existing: gifts },
      settings,
    );
    const aimed = await synthesizeExamples({ teacher: restating().teacher, checkpoint: memoryCheckpoint() }, steered, settings);
    expect(plain.examples).toHaveLength(2);
    expect(aimed.examples).toHaveLength(2);
    const before = datasetCoverage(graph, [...gifts, ...plain.examples]);
    const after = datasetCoverage(graph, [...gifts, ...aimed.examples]);
    expect(after.concepts.covered).toBeGreaterThan(before.concepts.covered);
    expect(after.pairs.covered).toBeGreaterThan(before.pairs.covered);
    expect(before.uncoveredConcepts.filter((id) => !after.uncoveredConcepts.includes(id)).length).toBeGreaterThan(0);
  });

  it('prompts about the first clauses as before once the target is met', () => {
    const met = new CoverageTracker(graph, 0.1);
    met.add(existing);
    const settings = SynthesisSettings.parse({ maxClauses: 2, kinds: ['qa'] });
    expect(planSynthesis({ ...input, steering: met }, settings, 'm').map((t) => t.key)).toEqual(
      planSynthesis(input, settings, 'm').map((t) => t.key),
    );
  });
});

describe('parseTeacherReply', () => {
  it('takes one JSON object, bare or in one code fence, and nothing else', () => {
    expect(parseTeacherReply('{"examples":[{"question":"q?","answer":"a"}]}')).toEqual({
      ok: true,
      items: [{ question: 'q?', answer: 'a' }],
    });
    expect(parseTeacherReply('```json\n{"examples":[1]}\n```')).toEqual({ ok: true, items: [1] });
    expect(parseTeacherReply('Sure! {"examples":[1]}').ok).toBe(false);
    expect(parseTeacherReply('{"examples":[]}').ok).toBe(false);
    expect(parseTeacherReply('{"question":"q?"}').ok).toBe(false);
  });
});

describe('synthesizeExamples', () => {
  const grounded11 = {
    question: 'May an employee accept a cash gift from a supplier at the end of a project?',
    answer: 'No. Employees must not accept cash gifts from suppliers (§1.1).',
  };

  it('keeps grounded examples with their clauses and drops the rest by reason, generated = kept + dropped', async () => {
    const { teacher } = scriptedTeacher((request) => {
      const [first] = promptClauses(request);
      const kind = kindOf(request);
      if (first !== '1.1') return 'I cannot help with that.';
      if (kind === 'qa')
        return reply([
          grounded11,
          // Invents a rule the clause does not have.
          {
            question: 'Must employees wear a uniform when they meet suppliers at the office?',
            answer: 'Yes. Uniforms are mandatory at every supplier meeting in the head office.',
          },
          // Restates the clause, then adds what it does not say.
          {
            question: 'What should an employee do when a supplier offers cash gifts?',
            answer: 'Employees must not accept cash gifts from suppliers, and must phone the compliance hotline within two hours by fax.',
          },
          // Permits what the clause forbids.
          {
            question: 'Can employees accept cash gifts from suppliers now and then?',
            answer: 'Yes. Employees may accept cash gifts from suppliers.',
          },
          // Cites a clause it was not given.
          {
            question: 'Is taking cash from a supplier something employees must avoid?',
            answer: 'Yes. Employees must not accept cash gifts from suppliers (§2.1).',
          },
          { question: 'cash gifts', answer: 'Employees must not accept cash gifts from suppliers.' },
          // About something else than the clause.
          {
            question: 'Is the canteen open to visitors on public holidays?',
            answer: 'No. Employees must not accept cash gifts from suppliers (§1.1).',
          },
          // A person and a place the document does not have.
          {
            question: 'May Priya in the Lyon office accept cash gifts from suppliers?',
            answer: 'No. Employees must not accept cash gifts from suppliers (§1.1).',
          },
          // A model stuck in a loop.
          {
            question: 'May employees accept accept cash gifts from suppliers?',
            answer: 'No. Employees must not accept cash gifts from suppliers (§1.1).',
          },
          { answer: 'no question' },
        ]);
      if (kind === 'violating')
        return reply([
          {
            question: 'A buyer takes an envelope of cash gifts from suppliers after a tender. Is this acceptable under these rules?',
            answer: 'No. Employees must not accept cash gifts from suppliers, so the buyer breaks §1.1.',
            label: 'violating',
          },
          {
            question: 'An employee accepts cash gifts from suppliers every month. Is this acceptable under these rules?',
            answer: 'Yes. Employees must not accept cash gifts from suppliers (§1.1) but this is fine.',
            label: 'violating',
          },
          {
            question: 'Someone refuses cash gifts from suppliers politely. Is this acceptable?',
            answer: 'Yes. Employees must not accept cash gifts.',
            label: 'compliant',
          },
        ]);
      if (kind === 'paraphrase')
        // A near-duplicate of the seed: nothing new.
        return reply([
          {
            question: 'Can I take a $30 gift card from a supplier?',
            answer: 'No. Employees must not accept cash gifts from suppliers (§1.1).',
          },
        ]);
      return '```json\n{"examples": "none"}\n```';
    });
    const progress: Array<{ done: number; total: number }> = [];
    const result = await synthesizeExamples({ teacher, checkpoint: memoryCheckpoint() }, input, { concurrency: 3 }, (p) =>
      progress.push({ done: p.done, total: p.total }),
    );
    const { report, examples } = result;
    expect(report.generated).toBe(report.kept + droppedTotal(report));
    expect(report.kept).toBe(examples.length);
    expect(examples.map((e) => e.question)).toEqual([
      grounded11.question,
      'A buyer takes an envelope of cash gifts from suppliers after a tender. Is this acceptable under these rules?',
    ]);
    expect(report.droppedByReason).toMatchObject({
      ungrounded: 1,
      unsupported: 1,
      contradiction: 1,
      'unknown-citation': 1,
      'not-a-question': 1,
      'off-topic': 1,
      garbled: 1,
      'invented-name': 1,
      schema: 1,
      'label-mismatch': 2,
      'near-duplicate': 1,
    });
    expect(report.droppedByReason.unparseable).toBeGreaterThan(0);
    const [qa, scenario] = examples as [Example, Example];
    expect(qa).toMatchObject({
      kind: 'qa',
      source: 'teacher',
      label: null,
      clauseIds: [clause('1.1').id],
      clauseRefs: ['1.1'],
      statementKind: 'prohibition',
    });
    expect(qa.rejected).toMatch(/^Yes\./);
    // The teacher's citation is kept; a missing one is added.
    expect(scenario).toMatchObject({ kind: 'scenario', label: 'violating', clauseIds: [clause('1.1').id] });
    expect(scenario.answer).toContain('§1.1');
    expect(report.keptByKind).toEqual({ qa: 1, 'scenario-violating': 1 });
    expect(progress.at(-1)).toEqual({ done: report.requests, total: report.requests });
    expect(report).toMatchObject({ teacherModel: 'scripted-teacher', concurrency: 3, sent: report.requests, resumed: 0, failed: 0 });
  });

  it('adds a missing citation and drops what exceeds the cap per clause', async () => {
    const { teacher } = scriptedTeacher((request) =>
      promptClauses(request)[0] === '1.2' && kindOf(request) === 'qa'
        ? reply([
            {
              question: 'Do employees need approval for a gift worth $40?',
              answer: 'No. Employees may accept gifts worth up to $50 without approval.',
            },
            {
              question: 'Can a member of staff accept a present worth $45 without asking anyone?',
              answer: 'Yes. Employees may accept gifts worth up to $50 without approval.',
            },
            {
              question: 'Is a gift worth $10 fine to accept with no approval from a manager?',
              answer: 'Yes. Employees may accept gifts worth up to $50 without approval.',
            },
          ])
        : 'no',
    );
    const { examples, report } = await synthesizeExamples({ teacher, checkpoint: memoryCheckpoint() }, input, {
      maxPerClause: 2,
      kinds: ['qa'],
    });
    expect(examples).toHaveLength(2);
    expect(examples[0]?.answer).toBe('No. Employees may accept gifts worth up to $50 without approval. (§1.2)');
    expect(report.droppedByReason['clause-cap']).toBe(1);
    expect(report.generated).toBe(report.kept + droppedTotal(report));
  });

  it('resumes from the checkpoint: finished requests are not sent again and give the same examples', async () => {
    const script: Script = (request) =>
      promptClauses(request)[0] === '1.1' && kindOf(request) === 'qa' ? reply([grounded11]) : reply([{ question: 'x?', answer: 'y' }]);
    const checkpoint = memoryCheckpoint();
    const controller = new AbortController();
    const first = scriptedTeacher((request, call) => {
      if (call === 5) controller.abort(new Error('interrupted'));
      return script(request, call);
    });
    await expect(
      synthesizeExamples({ teacher: first.teacher, checkpoint }, input, { concurrency: 1 }, undefined, controller.signal),
    ).rejects.toThrow('interrupted');
    expect(checkpoint.entries.size).toBe(5);

    const second = scriptedTeacher(script);
    const resumed = await synthesizeExamples({ teacher: second.teacher, checkpoint }, input, { concurrency: 1 });
    expect(resumed.report.resumed).toBe(5);
    expect(second.calls).toHaveLength(resumed.report.requests - 5);

    const fresh = await synthesizeExamples({ teacher: scriptedTeacher(script).teacher, checkpoint: memoryCheckpoint() }, input, {
      concurrency: 1,
    });
    expect(resumed.examples).toEqual(fresh.examples);
    expect(resumed.report.droppedByReason).toEqual(fresh.report.droppedByReason);
  });

  it('keeps the checkpoint as an artifact that a new run reads back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synth-'));
    try {
      const artifacts = new FileArtifactStore(dir);
      const { teacher, calls } = scriptedTeacher(() => reply([grounded11]));
      const settings = { kinds: ['qa' as const], maxClauses: 2 };
      await synthesizeExamples({ teacher, checkpoint: artifactCheckpoint(artifacts, 'synthesis/acme.jsonl') }, input, settings);
      expect(calls).toHaveLength(2);
      const again = await synthesizeExamples(
        { teacher, checkpoint: artifactCheckpoint(artifacts, 'synthesis/acme.jsonl') },
        input,
        settings,
      );
      expect(calls).toHaveLength(2);
      expect(again.report).toMatchObject({ resumed: 2, sent: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never has more requests in flight than the concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    const teacher = {
      model: 'slow',
      llm: {
        chat: async (request: ChatRequest): Promise<ChatResult> => {
          inFlight += 1;
          peak = Math.max(peak, inFlight);
          await new Promise((r) => setTimeout(r, 5));
          inFlight -= 1;
          return { id: 'x', model: request.model, content: 'no', finishReason: 'stop', usage: null };
        },
      },
    };
    const { report } = await synthesizeExamples({ teacher, checkpoint: memoryCheckpoint() }, input, { concurrency: 3 });
    expect(peak).toBe(3);
    expect(report.droppedByReason.unparseable).toBe(report.requests);
  });

  it('names the teacher when its first requests all fail, and does not checkpoint failures', async () => {
    const checkpoint = memoryCheckpoint();
    const teacher = {
      model: 'down',
      llm: {
        chat: async (): Promise<ChatResult> => {
          throw new Error('connect ECONNREFUSED 127.0.0.1:9');
        },
      },
    };
    await expect(synthesizeExamples({ teacher, checkpoint }, input, { concurrency: 2 })).rejects.toThrow(TeacherUnavailableError);
    await expect(synthesizeExamples({ teacher, checkpoint }, input, { concurrency: 2 })).rejects.toThrow(
      /teacher "down" failed its first \d+ requests \(last: connect ECONNREFUSED/,
    );
    expect(checkpoint.entries.size).toBe(0);
  });

  it('drops what the judge grades low, when a judge is configured', async () => {
    const { teacher } = scriptedTeacher((request) =>
      promptClauses(request)[0] === '1.1' && kindOf(request) === 'qa' ? reply([grounded11]) : 'no',
    );
    const judged = { ...teacher, judge: { judge: async () => ({ score: 0.25, raw: 2, reason: 'vague', error: null }) } };
    const { report, examples } = await synthesizeExamples({ teacher: judged, checkpoint: memoryCheckpoint() }, input, { kinds: ['qa'] });
    expect(examples).toHaveLength(0);
    expect(report.droppedByReason['judge-rejected']).toBe(1);
    expect(report.generated).toBe(report.kept + droppedTotal(report));
  });

  it('refuses settings out of range, naming them', async () => {
    const { teacher } = scriptedTeacher(() => 'no');
    await expect(synthesizeExamples({ teacher, checkpoint: memoryCheckpoint() }, input, { concurrency: 0 })).rejects.toThrow(/concurrency/);
  });
});

describe('a dataset version with a teacher', () => {
  it('joins the kept examples with source "teacher", writes the data report beside the splits, and resumes on a re-run', async () => {
    const h = await openHarness(fakeLlm(() => 'unused'));
    try {
      const uploaded = await uploadDocument(h, {
        tenant: TENANT,
        contextId: 'acme',
        filename: 'policy.md',
        mediaType: 'text/markdown',
        content: new TextEncoder().encode(POLICY),
        maxBytes: 1_000_000,
        source: '/test',
      });
      const { document } = await frameUploadedDocument(h, uploaded);
      const script = scriptedTeacher((request) =>
        promptClauses(request)[0] === '1.1' && kindOf(request) === 'qa'
          ? reply([
              {
                question: 'May an employee accept a cash gift from a supplier at the end of a project?',
                answer: 'No. Employees must not accept cash gifts from suppliers (§1.1).',
              },
            ])
          : 'no',
      );
      const request = {
        tenant: TENANT,
        contextId: 'acme',
        documentId: document.id,
        values: null,
        seedsJsonl: SEEDS,
        seed: 7,
        heldOutRatio: 0.2,
        synthesis: { teacher: script.teacher, settings: { kinds: ['qa' as const, 'scenario-violating' as const] } },
      };
      const first = await generateDatasetVersion(h, request);
      const all = [...first.framed.version.train, ...first.framed.version.heldOut];
      const taught = all.filter((e) => e.source === 'teacher');
      expect(taught.map((e) => e.question)).toEqual(['May an employee accept a cash gift from a supplier at the end of a project?']);
      expect(first.synthesis).toMatchObject({ kept: 1, sent: first.synthesis?.requests, resumed: 0 });
      expect(first.report.data.bySource.teacher).toBe(1);
      expect(first.report.data.dropped.byReason['teacher:unparseable']).toBe((first.synthesis?.requests ?? 0) - 1);
      const stored = JSON.parse(await h.artifacts.read(first.report.jsonUri)) as DataReport;
      expect(stored.datasetVersionId).toBe(first.dataset.id);
      expect(stored.sample).toHaveLength(20);
      expect(await h.artifacts.read(first.report.markdownUri)).toContain(`# Data report: ${first.dataset.id}`);

      const calls = script.calls.length;
      const again = await generateDatasetVersion(h, request);
      expect(script.calls).toHaveLength(calls);
      expect(again.dataset.id).toBe(first.dataset.id);
      expect(again.created).toBe(false);
      expect(again.synthesis).toMatchObject({ resumed: first.synthesis?.requests, sent: 0 });

      const without = await generateDatasetVersion(h, { ...request, synthesis: null });
      expect(without.dataset.id).not.toBe(first.dataset.id);
      expect(without.synthesis).toBeNull();
      expect(without.report.data.synthesis).toBeNull();
    } finally {
      await h.close();
    }
  });
});

describe('inventedName', () => {
  const vocabulary = new Set(['acme', 'company', 'gifts', 'register', 'employees']);
  it('finds a capitalised word inside a sentence that the document never uses', () => {
    expect(inventedName('May Priya accept the gift?', vocabulary)).toBe('Priya');
    expect(inventedName('An employee in the Lyon office asks. Is it allowed?', vocabulary)).toBe('Lyon');
    // Sentence-initial words, and names the document uses, are not invented.
    expect(inventedName('Employees of Acme record Gifts in the Register. May they?', vocabulary)).toBeNull();
    expect(inventedName('Is it allowed? Yes.', vocabulary)).toBeNull();
  });
});
