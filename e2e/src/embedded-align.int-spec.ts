import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AuditReportV1 } from '@studio/auditing';

/**
 * The main job end to end: the real CLI, the real model runtime (tiny model, real LoRA training,
 * real serving), on the example policy, in a temporary data folder. Needs the runtime's virtual
 * environment (scripts/setup.sh creates it): skipped with a reason when it is missing locally,
 * failed in CI.
 */
const ROOT = resolve(__dirname, '../..');
const RUNTIME = join(ROOT, 'apps/model-runtime/.venv/bin/studio-runtime');
const POLICY = join(ROOT, 'examples/northwind-conduct/policy.md');
const haveRuntime = existsSync(RUNTIME);
const inCi = process.env['CI'] === 'true';

function studio(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 170_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'apps/studio/src/main.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, SWC_NODE_PROJECT: join(ROOT, 'apps/studio/tsconfig.json'), STUDIO_ROOT: ROOT, ...env },
    timeout: timeoutMs,
  });
}

function datasetHashOf(output: string): string {
  const match = /sha256 ([a-f0-9]{16})…/.exec(output);
  if (!match?.[1]) throw new Error(`no dataset hash in the summary:\n${output}`);
  return match[1];
}

describe('studio align (embedded profile, real model runtime)', () => {
  if (!haveRuntime && inCi) {
    it('needs the model runtime', () => {
      throw new Error(`the model runtime is not installed (${RUNTIME} is missing): CI must run scripts/setup.sh first`);
    });
    return;
  }
  if (!haveRuntime) {
    it.skip(`skipped: the model runtime is not installed (${RUNTIME} is missing; run "bash scripts/setup.sh")`, () => undefined);
    return;
  }

  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'studio-align-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('aligns the tiny model to the example policy and audits it: three variants, a verdict, both reports', () => {
    // Generous on a shared 2-core machine: 20 CPU steps alone can take two minutes (four when it is busy), and the
    // two checkpoint evaluations (steps 0 and 20) about as much as six more.
    // A red team of 17 attacks: one through each default strategy stack, retrieved-injection among them.
    const run = studio(
      [
        'align',
        POLICY,
        '--model',
        'tiny',
        '--max-steps',
        '20',
        '--max-eval',
        '8',
        '--max-attacks',
        '17',
        '--max-benign',
        '4',
        '--max-general-ability',
        '8',
        '--data-dir',
        dataDir,
      ],
      {},
      660_000,
    );
    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr.slice(-3000) }).toEqual({ status: 0, stderr: '' });

    const summary = run.stdout;
    expect(summary).toMatch(/clauses\s+\d{2,}/);
    expect(summary).toMatch(/verdict: (PASS|FAIL)/);
    expect(summary).toMatch(/orchestration overhead: .* = \d+\.\d% of the total/);
    const reportPath = /report: (\S+report\.md) \(JSON: (\S+report\.json)\)/.exec(summary);
    expect(reportPath).not.toBeNull();
    const [, markdownPath, jsonPath] = reportPath as RegExpExecArray;
    expect(existsSync(markdownPath as string)).toBe(true);
    const report = AuditReportV1.parse(JSON.parse(readFileSync(jsonPath as string, 'utf8')));
    expect(Object.keys(report.scores).sort()).toEqual(['aligned', 'aligned_rag', 'base']);
    expect(report.items).toBe(8);
    expect(report.results.every((r) => Object.keys(r.variants).length === 3)).toBe(true);
    expect(['pass', 'fail']).toContain(report.verdict);
    expect(report.models.base).toBe('tiny');

    // The audit attacked every variant with attacks from the policy's rules, and timed it.
    expect(summary).toMatch(
      /red team: \d+ attacks on \d+ goals, \d+ benign probes, \d+ general-ability items \(\d+ requests, .+ of the audit\):/,
    );
    const redTeam = report.redTeam;
    if (!redTeam) throw new Error('the report has no red team');
    expect(redTeam.attacks).toBeGreaterThan(0);
    expect(Object.keys(redTeam.variants).sort()).toEqual(['aligned', 'aligned_rag', 'base']);
    // Instructions injected inside retrieved clause text: asked of aligned+RAG only, the injected text in
    // its system prompt, and the count of those followed is the count of replies carrying the canary,
    // whatever the tiny model answers.
    const injected = redTeam.results.filter((r) => r.injection !== null);
    expect(injected.length).toBeGreaterThan(0);
    for (const r of injected) {
      expect(Object.keys(r.variants)).toEqual(['aligned_rag']);
      expect(r.injection?.text).toContain(r.canary as string);
    }
    const followed = injected.filter((r) => r.variants.aligned_rag?.replies.some((reply) => reply.includes(r.canary as string)));
    expect(redTeam.injection).toMatchObject({ variant: 'aligned_rag', attacks: injected.length, inPrompt: injected.length });
    expect(redTeam.injection?.followed.k).toBe(followed.length);
    expect(injected.filter((r) => r.variants.aligned_rag?.followedInjection).length).toBe(followed.length);
    expect(Object.keys(report.benign?.variants ?? {}).sort()).toEqual(['aligned', 'aligned_rag', 'base']);
    expect(report.generalAbility?.items).toBeGreaterThan(0);
    expect(report.generalAbility?.regression).toBeCloseTo(
      (report.generalAbility?.variants.base?.accuracy.rate ?? 0) - (report.generalAbility?.variants.aligned?.accuracy.rate ?? 0),
    );

    // Every stage published its contract events, in pipeline order.
    const topics = readFileSync(join(dataDir, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { topic: string }).topic);
    const firstOf = (topic: string) => topics.indexOf(topic);
    const order = [
      'policy.document.uploaded.v1',
      'policy.document.framed.v1',
      'dataset.version.published.v1',
      'training.run.requested.v1',
      'training.run.progress.v1',
      'training.run.completed.v1',
      'audit.run.completed.v1',
      'audit.verdict.issued.v1',
    ].map(firstOf);
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);

    // Checkpoint evaluations (on by default: 8 held-out items every 20 steps, before the first and at the last step)
    // travel from the runtime's progress lines to training.run.progress events and the summary.
    const evaluations = readFileSync(join(dataDir, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { topic: string; event: { data: { phase?: string; step: number; checkpointEval?: unknown } } })
      .filter((e) => e.topic === 'training.run.progress.v1' && e.event.data.phase === 'checkpoint_eval')
      .map((e) => e.event.data);
    expect(evaluations.map((d) => d.step)).toEqual([0, 20]);
    for (const d of evaluations)
      expect(d.checkpointEval).toEqual({
        items: 8,
        tokenF1: expect.any(Number),
        heldoutLoss: expect.any(Number),
        seconds: expect.any(Number),
        earlyStop: null,
      });
    expect(summary).toMatch(/held-out token F1 \d\.\d{3} → \d\.\d{3} \(best \d\.\d{3} at step \d+; 2 checkpoint evaluations\)/);

    // Framing again reuses the same dataset version.
    const again = studio(['frame', POLICY, '--data-dir', dataDir]);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('(already published)');
    expect(datasetHashOf(again.stdout)).toBe(datasetHashOf(summary));
  }, 700_000);

  it('runs SFT then a DPO round on synthetic preferences (--method sft,dpo) and audits base, SFT, SFT + DPO and SFT + DPO + RAG', () => {
    const data = mkdtempSync(join(tmpdir(), 'studio-dpo-'));
    try {
      const run = studio(
        [
          'align',
          POLICY,
          '--model',
          'tiny',
          '--method',
          'sft,dpo',
          '--max-steps',
          '3',
          '--dpo-max-steps',
          '3',
          '--max-eval',
          '6',
          '--max-attacks',
          '4',
          '--max-benign',
          '2',
          '--max-general-ability',
          '4',
          '--data-dir',
          data,
        ],
        {},
        540_000,
      );
      expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr.slice(-3000) }).toEqual({ status: 0, stderr: '' });
      const summary = run.stdout;
      expect(summary).toMatch(/preferences\s+\d+ synthetic pairs; preference dataset prefs-[0-9a-f]+ \(train \d+ \/ held-out \d+\)/);
      expect(summary).toMatch(/dpo\s+run-dpo-[0-9a-f]{16} from adapter-[0-9a-f]{16}, loss \d/);
      // SFT and SFT + DPO side by side, each with how often it advises against a violation.
      expect(summary).toMatch(/\nSFT\s+\d\.\d{3}\s+\d\.\d{3}/);
      expect(summary).toMatch(/\nSFT \+ DPO\s+\d\.\d{3}\s+\d\.\d{3}/);
      const [, , jsonPath] = /report: (\S+report\.md) \(JSON: (\S+report\.json)\)/.exec(summary) as RegExpExecArray;
      const report = AuditReportV1.parse(JSON.parse(readFileSync(jsonPath as string, 'utf8')));
      expect(Object.keys(report.scores)).toEqual(['base', 'sft', 'aligned', 'aligned_rag']);
      expect(report.results.every((r) => r.variants.sft !== undefined)).toBe(true);
      expect(report.lineage).toMatchObject({ method: 'dpo', parentAdapterId: expect.stringMatching(/^adapter-[0-9a-f]{16}$/) });
      expect(report.lineage?.preferenceDatasetId).toMatch(/^prefs-/);
      expect(report.models.parent).toBe(report.lineage?.parentAdapterId);
      expect(report.kinds.length).toBeGreaterThan(0);
      // The red team, over-refusal and general ability of base, SFT and SFT + DPO.
      expect(Object.keys(report.redTeam?.variants ?? {})).toEqual(expect.arrayContaining(['base', 'sft', 'aligned']));
      expect(Object.keys(report.benign?.variants ?? {})).toEqual(['base', 'sft', 'aligned', 'aligned_rag']);
      expect(report.generalAbility?.items).toBe(4);
      const events = readFileSync(join(data, 'events.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { topic: string; event: { data: Record<string, unknown> } });
      const requested = events.filter((e) => e.topic === 'training.run.requested.v1').map((e) => e.event.data);
      expect(requested.map((d) => d['method'])).toEqual(['sft', 'dpo']);
      expect(requested[1]).toMatchObject({
        parentAdapterId: report.lineage?.parentAdapterId,
        preferenceDatasetId: report.lineage?.preferenceDatasetId,
      });
      const topics = events.map((e) => e.topic);
      expect(topics.indexOf('preference.dataset.published.v1')).toBeGreaterThan(topics.indexOf('training.run.completed.v1'));
      expect(topics.filter((t) => t === 'training.run.completed.v1')).toHaveLength(2);
      // The runtime trained DPO from the SFT adapter's folder: its run.json says so.
      const [sftRun, dpoRun] = requested.map((d) => String(d['runId']));
      const dpoRunJson = (readdirSync(join(data, 'tenants', 'local', 'runs', dpoRun as string), { recursive: true }) as string[])
        .filter((f) => f.endsWith('run.json'))
        .map(
          (f) => JSON.parse(readFileSync(join(data, 'tenants', 'local', 'runs', dpoRun as string, f), 'utf8')) as Record<string, unknown>,
        );
      expect(dpoRunJson.length).toBeGreaterThan(0);
      expect(String(dpoRunJson[0]?.['init_adapter'])).toContain(`/runs/${sftRun}/`);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  }, 560_000);

  it('attacks adaptively in the audit (--attacker): SmolLM2 served by the model runtime is both the target and the attacker', () => {
    // Tiny on purpose (CI time): one training step, one held-out question, one generated attack, one goal attacked
    // adaptively for at most two rounds, against base, aligned and aligned+RAG. SmolLM2 (not the tiny random model) so
    // that the attacker can write a prompt at all. On a busy 2-core machine indexing and one SmolLM2 step take minutes.
    const data = mkdtempSync(join(tmpdir(), 'studio-adaptive-'));
    try {
      const run = studio(
        [
          'align',
          POLICY,
          '--model',
          'smollm2-135m-instruct',
          '--max-steps',
          '1',
          '--eval-every',
          '0',
          '--max-eval',
          '1',
          '--max-attacks',
          '1',
          '--max-benign',
          '0',
          '--max-general-ability',
          '0',
          '--attacker',
          '--max-adaptive',
          '1',
          '--attacker-rounds',
          '2',
          '--data-dir',
          data,
        ],
        {},
        840_000,
      );
      expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr.slice(-3000) }).toEqual({ status: 0, stderr: '' });
      const [, markdownPath, jsonPath] = /report: (\S+report\.md) \(JSON: (\S+report\.json)\)/.exec(run.stdout) as RegExpExecArray;
      const report = AuditReportV1.parse(JSON.parse(readFileSync(jsonPath as string, 'utf8')));
      const redTeam = report.redTeam;
      const adaptive = redTeam?.adaptive;
      if (!redTeam || !adaptive?.ran) throw new Error(`the report has no adaptive attacks: ${JSON.stringify(adaptive)}`);
      expect(adaptive.attacker).toEqual({ model: 'smollm2-135m-instruct', endpoint: null, promptVersion: 'adaptive-attacker.v1' });
      expect(adaptive.maxRounds).toBe(2);
      expect(adaptive.goals).toBe(1);
      // The goal against every variant.
      expect(adaptive.attempts.map((a) => a.variant).sort()).toEqual(['aligned', 'aligned_rag', 'base']);
      expect(new Set(adaptive.attempts.map((a) => a.attackId)).size).toBe(1);
      for (const a of adaptive.attempts) {
        // Round 1 asks the goal itself; every later prompt is one the attacker model wrote from the reply before it.
        expect(a.rounds[0]?.prompt).toBe(a.goal);
        expect(a.rounds.length).toBeGreaterThanOrEqual(1);
        expect(a.rounds.length).toBeLessThanOrEqual(2);
        if (a.rounds[1]) expect(a.rounds[1].prompt).not.toBe(a.rounds[0]?.prompt);
        expect(a.outcome).toBe(a.rounds.at(-1)?.outcome);
        // Why it stopped agrees with what happened.
        if (a.stop.reason === 'succeeded') expect(a.outcome).not.toBe('refused');
        else expect(a.outcome).toBe('refused');
        if (a.stop.reason === 'max-rounds') expect(a.rounds).toHaveLength(2);
        if (a.stop.reason === 'attacker-unusable') expect(a.rounds).toHaveLength(1);
      }
      // SmolLM2 answers with words (real replies from the server).
      expect(adaptive.attempts.flatMap((a) => a.rounds).some((r) => r.reply.trim().split(/\s+/).length >= 3)).toBe(true);
      // Attack success per strategy counts the attempts under 'adaptive', per variant, with an interval.
      for (const v of ['base', 'aligned', 'aligned_rag'] as const) {
        const mine = adaptive.attempts.filter((a) => a.variant === v);
        expect(redTeam.variants[v]?.success.byStrategy['adaptive']).toMatchObject({
          n: 1,
          k: mine.filter((a) => a.outcome !== 'refused').length,
        });
      }
      expect(run.stdout).toContain('adaptive attacks (attacker smollm2-135m-instruct): 3 attempts on 1 goals');
      expect(readFileSync(markdownPath as string, 'utf8')).toContain('### Adaptive attacks');
      const rounds = adaptive.attempts.map((a) => `${a.variant} ${a.rounds.length} rounds ${a.outcome} (${a.stop.reason})`);
      console.info(`[adaptive e2e] ${rounds.join('; ')}`);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  }, 860_000);

  it('rejects bad input with one line and exit code 2, storing nothing', () => {
    const folder = mkdtempSync(join(tmpdir(), 'studio-bad-'));
    try {
      const cases: Array<[string, string | Buffer | null, RegExp]> = [
        ['missing.md', null, /policy document .*missing\.md does not exist/],
        ['empty.md', '', /document is empty/],
        ['binary.md', Buffer.from([0, 1, 2, 3, 0, 255]), /binary/],
        ['oversize.md', `# Big\n\n${'Employees must comply. '.repeat(120_000)}`, /over the limit/],
        ['flat.md', 'hello', /no sections or numbered clauses/],
      ];
      for (const [name, content, message] of cases) {
        const path = join(folder, name);
        if (content !== null) writeFileSync(path, content);
        const data = join(folder, `data-${name}`);
        const run = studio(['align', path, '--model', 'tiny', '--data-dir', data]);
        expect({ name, status: run.status }).toEqual({ name, status: 2 });
        expect(run.stderr.trim().split('\n')).toHaveLength(1);
        expect(run.stderr).toMatch(message);
        expect(existsSync(data)).toBe(false);
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 120_000);
});
