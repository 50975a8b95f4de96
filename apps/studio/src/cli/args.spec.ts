import { dpoHyperparametersFor, hyperparametersFor } from '../align';
import { ALIGN_DEFAULTS, DEFAULT_MODEL, InputError, parseAlignArgs } from './args';

describe('parseAlignArgs', () => {
  it('takes an adaptive attacker: the local model, or an endpoint with its model, with rounds and goals, and names what is wrong', () => {
    expect(parseAlignArgs(['align', 'p.md', '--attacker'])).toMatchObject({
      attacker: true,
      attackerUrl: null,
      attackerModel: null,
      attackerRounds: 4,
      maxAdaptive: 4,
    });
    expect(
      parseAlignArgs([
        'align',
        'p.md',
        '--attacker-url',
        'http://127.0.0.1:9000/v1',
        '--attacker-model',
        'qwen',
        '--attacker-rounds',
        '2',
        '--max-adaptive',
        '1',
      ]),
    ).toMatchObject({ attacker: true, attackerUrl: 'http://127.0.0.1:9000/v1', attackerModel: 'qwen', attackerRounds: 2, maxAdaptive: 1 });
    const bad: Array<[string[], RegExp]> = [
      [['--attacker-url', 'not a url', '--attacker-model', 'q'], /--attacker-url must be a URL/],
      [['--attacker-url', 'http://a/v1'], /--attacker-url needs --attacker-model/],
      [['--attacker-model', 'q'], /--attacker-model needs --attacker-url/],
      [['--attacker', '--attacker-rounds', '0'], /--attacker-rounds must be at least 1/],
      [['--attacker', '--attacker-rounds', '21'], /--attacker-rounds must be at most 20/],
      [['--attacker', '--max-adaptive=-1'], /--max-adaptive must be 0 or more/],
      [['--attacker-rounds', '2'], /need an attacker/],
      [['--max-adaptive', '2'], /need an attacker/],
    ];
    for (const [flags, message] of bad) {
      expect(() => parseAlignArgs(['align', 'p.md', ...flags])).toThrow(InputError);
      expect(() => parseAlignArgs(['align', 'p.md', ...flags])).toThrow(message);
    }
  });

  it('applies the documented defaults', () => {
    expect(parseAlignArgs(['align', 'policy.md'])).toEqual({
      command: 'align',
      policy: 'policy.md',
      model: DEFAULT_MODEL,
      values: null,
      seeds: null,
      dataDir: ALIGN_DEFAULTS.dataDir,
      epochs: ALIGN_DEFAULTS.epochs,
      maxSteps: ALIGN_DEFAULTS.maxSteps,
      maxEval: ALIGN_DEFAULTS.maxEval,
      maxAttacks: ALIGN_DEFAULTS.maxAttacks,
      maxBenign: ALIGN_DEFAULTS.maxBenign,
      maxGeneralAbility: null,
      attacker: false,
      attackerUrl: null,
      attackerModel: null,
      attackerRounds: ALIGN_DEFAULTS.attackerRounds,
      maxAdaptive: ALIGN_DEFAULTS.maxAdaptive,
      tenant: 'local',
      context: null,
      learningRate: ALIGN_DEFAULTS.learningRate,
      retrain: false,
      judgeUrl: null,
      judgeModel: null,
      teacher: false,
      teacherUrl: null,
      teacherModel: null,
      teacherConcurrency: ALIGN_DEFAULTS.teacherConcurrency,
      teacherPerClause: ALIGN_DEFAULTS.teacherPerClause,
      teacherMaxClauses: null,
      method: 'sft',
      dpoBeta: null,
      dpoLearningRate: null,
      dpoMaxSteps: null,
      earlyStop: null,
    });
  });

  it('takes checkpoint evaluations and early stop, and names what is wrong with them', () => {
    expect(
      parseAlignArgs(['align', 'p.md', '--eval-every', '5', '--eval-items', '4', '--early-stop', 'heldout_loss:3:0.05']),
    ).toMatchObject({
      evalEvery: 5,
      evalItems: 4,
      earlyStop: { metric: 'heldout_loss', patience: 3, min_delta: 0.05 },
    });
    expect(parseAlignArgs(['align', 'p.md', '--early-stop', 'token_f1']).earlyStop).toEqual({
      metric: 'token_f1',
      patience: 2,
      min_delta: 0,
    });
    expect(parseAlignArgs(['align', 'p.md', '--eval-every', '0']).evalEvery).toBeNull();
    expect(() => parseAlignArgs(['align', 'p.md', '--early-stop', 'bleu'])).toThrow(/--early-stop names token_f1 or heldout_loss/);
    expect(() => parseAlignArgs(['align', 'p.md', '--early-stop', 'token_f1:0'])).toThrow(/patience must be at least 1/);
    expect(() => parseAlignArgs(['align', 'p.md', '--eval-every', '0', '--early-stop', 'token_f1'])).toThrow(
      /--early-stop needs checkpoint evaluations/,
    );
    expect(() => parseAlignArgs(['align', 'p.md', '--eval-items', '0'])).toThrow(/--eval-items must be at least 1/);
  });

  it('passes checkpoint evaluations to the SFT and DPO runs over the pipeline defaults', () => {
    const args = parseAlignArgs(['align', 'p.md', '--method', 'sft,dpo', '--eval-every', '5', '--early-stop', 'token_f1:1']);
    const expected = { every_steps: 5, items: 8, max_new_tokens: 64, early_stop: { metric: 'token_f1', patience: 1, min_delta: 0 } };
    expect(hyperparametersFor(args).checkpoint_eval).toEqual(expected);
    expect(dpoHyperparametersFor(args)?.checkpoint_eval).toEqual(expected);
    expect(hyperparametersFor(parseAlignArgs(['align', 'p.md', '--eval-every', '0'])).checkpoint_eval).toBeNull();
    expect(hyperparametersFor(parseAlignArgs(['align', 'p.md'])).checkpoint_eval).toEqual({
      every_steps: 20,
      items: 8,
      max_new_tokens: 64,
      early_stop: null,
    });
    // A short run gets the default evaluations only when it asks for them.
    expect(hyperparametersFor(parseAlignArgs(['align', 'p.md', '--max-steps', '3'])).checkpoint_eval).toBeNull();
    expect(hyperparametersFor(parseAlignArgs(['align', 'p.md', '--max-steps', '3', '--eval-items', '2'])).checkpoint_eval).toMatchObject({
      every_steps: 20,
      items: 2,
    });
  });

  it('bounds the red team of the audit, 0 turning it off', () => {
    expect(parseAlignArgs(['align', 'p.md', '--max-attacks', '0', '--max-benign', '3', '--max-general-ability', '5'])).toMatchObject({
      maxAttacks: 0,
      maxBenign: 3,
      maxGeneralAbility: 5,
    });
  });

  it('turns teacher synthesis on with --teacher (the local model) or with an endpoint and its model', () => {
    expect(parseAlignArgs(['frame', 'p.md', '--teacher'])).toMatchObject({ teacher: true, teacherUrl: null, teacherModel: null });
    expect(
      parseAlignArgs([
        'frame',
        'p.md',
        '--teacher-url',
        'http://10.0.0.5:8000/v1',
        '--teacher-model',
        'granite-3-8b',
        '--teacher-concurrency',
        '16',
        '--teacher-per-clause',
        '3',
        '--teacher-max-clauses',
        '5',
      ]),
    ).toMatchObject({
      teacher: true,
      teacherUrl: 'http://10.0.0.5:8000/v1',
      teacherModel: 'granite-3-8b',
      teacherConcurrency: 16,
      teacherPerClause: 3,
      teacherMaxClauses: 5,
    });
    expect(() => parseAlignArgs(['frame', 'p.md', '--teacher-url', 'http://h/v1'])).toThrow(/--teacher-url needs --teacher-model/);
    expect(() => parseAlignArgs(['frame', 'p.md', '--teacher-model', 'g'])).toThrow(/--teacher-model needs --teacher-url/);
    expect(() => parseAlignArgs(['frame', 'p.md', '--teacher', '--teacher-concurrency', '0'])).toThrow(
      /--teacher-concurrency must be at least 1/,
    );
    expect(() => parseAlignArgs(['frame', 'p.md', '--teacher-url', 'nope', '--teacher-model', 'g'])).toThrow(/--teacher-url must be a URL/);
  });

  it('takes an LLM judge only as endpoint and model together', () => {
    expect(parseAlignArgs(['align', 'p.md', '--judge-url', 'http://127.0.0.1:8000/v1', '--judge-model', 'granite'])).toMatchObject({
      judgeUrl: 'http://127.0.0.1:8000/v1',
      judgeModel: 'granite',
    });
    expect(() => parseAlignArgs(['align', 'p.md', '--judge-model', 'granite'])).toThrow(/--judge-url and --judge-model go together/);
    expect(() => parseAlignArgs(['align', 'p.md', '--judge-url', 'not a url', '--judge-model', 'g'])).toThrow(/--judge-url must be a URL/);
  });

  it('reads every option; --max-steps 0 lifts the cap', () => {
    const args = parseAlignArgs([
      'align',
      'p.md',
      '--model',
      'tiny',
      '--values',
      'v.json',
      '--seeds',
      's.jsonl',
      '--data-dir',
      '/tmp/d',
      '--epochs',
      '2',
      '--max-steps',
      '0',
      '--max-eval',
      '8',
      '--tenant',
      'acme',
      '--context',
      'ctx',
      '--learning-rate',
      '0.001',
      '--retrain',
    ]);
    expect(args).toMatchObject({
      model: 'tiny',
      values: 'v.json',
      seeds: 's.jsonl',
      dataDir: '/tmp/d',
      epochs: 2,
      maxSteps: null,
      maxEval: 8,
      tenant: 'acme',
      context: 'ctx',
      learningRate: 0.001,
      retrain: true,
    });
  });

  it.each([
    [[], /missing command/],
    [['train', 'p.md'], /unknown command "train"/],
    [['align'], /missing policy document/],
    [['align', 'a.md', 'b.md'], /unexpected arguments: b.md/],
    [['align', 'p.md', '--max-eval', 'x'], /--max-eval must be a number/],
    [['align', 'p.md', '--max-steps=-3'], /--max-steps must be at least 1/],
    [['align', 'p.md', '--max-attacks=-1'], /--max-attacks must be 0 or more/],
    [['align', 'p.md', '--max-benign', '1.5'], /--max-benign must be a whole number/],
    [['align', 'p.md', '--epochs', '0'], /--epochs must be positive/],
    [['align', 'p.md', '--tenant', 'a b'], /--tenant must be/],
    [['align', 'p.md', '--bogus'], /Unknown option '--bogus'/],
  ])('rejects %j with a clear message', (argv, message) => {
    expect(() => parseAlignArgs(argv)).toThrow(InputError);
    expect(() => parseAlignArgs(argv)).toThrow(message);
  });
});

describe('--method', () => {
  const base = ['align', 'policy.md'];
  it('is sft by default and takes sft,dpo with its DPO settings', () => {
    expect(parseAlignArgs(base)).toMatchObject({ method: 'sft', dpoBeta: null, dpoLearningRate: null, dpoMaxSteps: null });
    expect(
      parseAlignArgs([...base, '--method', 'sft,dpo', '--dpo-beta', '0.2', '--dpo-learning-rate', '1e-5', '--dpo-max-steps', '8']),
    ).toMatchObject({
      method: 'sft,dpo',
      dpoBeta: 0.2,
      dpoLearningRate: 1e-5,
      dpoMaxSteps: 8,
    });
    expect(parseAlignArgs([...base, '--method', 'sft, dpo']).method).toBe('sft,dpo');
  });
  it("gives the DPO round the DPO defaults, not SFT's --max-steps, unless --dpo-* says otherwise", () => {
    const dpo = dpoHyperparametersFor(parseAlignArgs([...base, '--method', 'sft,dpo', '--max-steps', '3']));
    expect(dpo).toMatchObject({ max_steps: 80, learning_rate: 3e-4, dpo_beta: 0.1, dpo_sft_weight: 1 });
    expect(dpoHyperparametersFor(parseAlignArgs([...base, '--method', 'sft,dpo', '--dpo-max-steps', '5']))?.max_steps).toBe(5);
    expect(dpoHyperparametersFor(parseAlignArgs(base))).toBeNull();
  });
  it('names a bad method, and DPO settings without a DPO round', () => {
    expect(() => parseAlignArgs([...base, '--method', 'dpo'])).toThrow('--method must be sft or sft,dpo');
    expect(() => parseAlignArgs([...base, '--dpo-beta', '0.2'])).toThrow(
      '--dpo-beta, --dpo-learning-rate and --dpo-max-steps need --method sft,dpo',
    );
    expect(() => parseAlignArgs([...base, '--method', 'sft,dpo', '--dpo-beta=-1'])).toThrow('--dpo-beta must be positive');
  });
});
