import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_DPO_HYPERPARAMETERS } from '@studio/pipeline';

/** A problem with what the user gave us: printed as one line, exit code 2. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

export const DEFAULT_MODEL = 'smollm2-135m-instruct';

/**
 * Defaults sized for a 2-core CPU: about 15 minutes of training and 5 of generation with
 * SmolLM2-135M-Instruct. On a GPU raise --max-steps (or pass --max-steps 0 for full epochs).
 */
export const ALIGN_DEFAULTS = {
  dataDir: '.data/studio',
  tenant: 'local',
  epochs: 1,
  maxSteps: 40,
  maxEval: 24,
  maxAttacks: 24,
  maxBenign: 12,
  attackerRounds: 4,
  maxAdaptive: 4,
  learningRate: 5e-4,
  heldOutRatio: 0.1,
  seed: 42,
  ragTopK: 3,
  maxTokens: 112,
  concurrency: 8,
  teacherConcurrency: 4,
  teacherPerClause: 8,
  method: 'sft',
} as const;

/** What `--method` may name: SFT alone, or SFT then a DPO round on synthetic preferences. */
export const ALIGN_METHODS = ['sft', 'sft,dpo'] as const;

const positiveInt = (flag: string) =>
  z.coerce
    .number({ error: `--${flag} must be a number` })
    .int(`--${flag} must be a whole number`)
    .min(1, `--${flag} must be at least 1`);

const countInt = (flag: string) =>
  z.coerce
    .number({ error: `--${flag} must be a number` })
    .int(`--${flag} must be a whole number`)
    .min(0, `--${flag} must be 0 or more`);

export const AlignArgs = z
  .object({
    command: z.enum(['align', 'frame']),
    policy: z.string().min(1),
    model: z.string().min(1),
    values: z.string().min(1).nullable(),
    seeds: z.string().min(1).nullable(),
    dataDir: z.string().min(1),
    epochs: z.coerce.number({ error: '--epochs must be a number' }).positive('--epochs must be positive'),
    /** null: as many steps as the epochs take. */
    maxSteps: positiveInt('max-steps').nullable(),
    maxEval: positiveInt('max-eval'),
    /** Attacks generated from the rules and asked of every variant by the audit; 0: no red team. */
    maxAttacks: countInt('max-attacks'),
    /** Benign probes (over-refusal) asked of every variant; 0: none. */
    maxBenign: countInt('max-benign'),
    /** Items of the general-ability set answered by every variant; null: all of them; 0: none. */
    maxGeneralAbility: countInt('max-general-ability').nullable(),
    /** Adaptive attacks in the audit (on with --attacker, --attacker-url or --attacker-model). */
    attacker: z.boolean(),
    /** OpenAI-compatible endpoint of the attacker model; null: the locally served base model (--model). */
    attackerUrl: z.url({ error: '--attacker-url must be a URL such as http://127.0.0.1:8000/v1' }).nullable(),
    attackerModel: z.string().min(1, '--attacker-model must not be empty').nullable(),
    /** Prompts the attacker tries per goal and variant. */
    attackerRounds: positiveInt('attacker-rounds').max(20, '--attacker-rounds must be at most 20'),
    /** Goals attacked adaptively (spread over clauses); 0: none. */
    maxAdaptive: countInt('max-adaptive'),
    tenant: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, '--tenant must be 1-128 letters, digits, ".", "_", "-" or ":"'),
    context: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/, '--context must be 1-100 letters, digits, ".", "_" or "-"')
      .nullable(),
    learningRate: z.coerce.number({ error: '--learning-rate must be a number' }).positive('--learning-rate must be positive'),
    retrain: z.boolean(),
    /** OpenAI-compatible endpoint of an LLM judge (e.g. a large hosted or vLLM model), or null. */
    judgeUrl: z.url({ error: '--judge-url must be a URL such as http://127.0.0.1:8000/v1' }).nullable(),
    judgeModel: z.string().min(1, '--judge-model must not be empty').nullable(),
    /** Synthesise more examples with a teacher model (on with --teacher, --teacher-url or --teacher-model). */
    teacher: z.boolean(),
    /** OpenAI-compatible endpoint of the teacher; null: the locally served base model (--model). */
    teacherUrl: z.url({ error: '--teacher-url must be a URL such as http://127.0.0.1:8000/v1' }).nullable(),
    teacherModel: z.string().min(1, '--teacher-model must not be empty').nullable(),
    teacherConcurrency: positiveInt('teacher-concurrency').max(256, '--teacher-concurrency must be at most 256'),
    teacherPerClause: positiveInt('teacher-per-clause'),
    /** null: every clause that carries a statement. */
    teacherMaxClauses: positiveInt('teacher-max-clauses').nullable(),
    /** sft, or sft,dpo: after SFT, synthetic preferences and a DPO round from the SFT adapter (audited with the SFT adapter beside it). */
    method: z.enum(ALIGN_METHODS, { error: `--method must be ${ALIGN_METHODS.join(' or ')}` }),
    /** DPO settings; null: the DPO defaults (DEFAULT_DPO_HYPERPARAMETERS of @studio/pipeline). */
    dpoBeta: z.coerce.number({ error: '--dpo-beta must be a number' }).positive('--dpo-beta must be positive').nullable(),
    dpoLearningRate: z.coerce
      .number({ error: '--dpo-learning-rate must be a number' })
      .positive('--dpo-learning-rate must be positive')
      .nullable(),
    dpoMaxSteps: positiveInt('dpo-max-steps').nullable(),
    /** Checkpoint evaluations every n steps; null: none (--eval-every 0); absent: the pipeline's default. */
    evalEvery: positiveInt('eval-every').nullable().optional(),
    /** Held-out questions per checkpoint evaluation; absent: the pipeline's default. */
    evalItems: positiveInt('eval-items').max(512, '--eval-items must be at most 512').optional(),
    /** Stop training on regression of a checkpoint evaluation's metric; null: never. */
    earlyStop: z
      .object({
        metric: z.enum(['token_f1', 'heldout_loss'], { error: '--early-stop names token_f1 or heldout_loss' }),
        patience: positiveInt('early-stop patience'),
        min_delta: z.coerce
          .number({ error: '--early-stop min_delta must be a number' })
          .min(0, '--early-stop min_delta must be at least 0'),
      })
      .nullable(),
  })
  .refine((a) => (a.judgeUrl === null) === (a.judgeModel === null), {
    message: '--judge-url and --judge-model go together',
  })
  .refine((a) => a.teacherUrl === null || a.teacherModel !== null, {
    message: '--teacher-url needs --teacher-model (the model to ask at that endpoint)',
  })
  .refine((a) => a.teacherModel === null || a.teacherUrl !== null, {
    message: '--teacher-model needs --teacher-url (without it, the teacher is the locally served --model)',
  })
  .refine((a) => a.attackerUrl === null || a.attackerModel !== null, {
    message: '--attacker-url needs --attacker-model (the model to ask at that endpoint)',
  })
  .refine((a) => a.attackerModel === null || a.attackerUrl !== null, {
    message: '--attacker-model needs --attacker-url (without it, --attacker makes the locally served --model the attacker)',
  })
  .refine((a) => a.evalEvery !== null || a.earlyStop === null, {
    message: '--early-stop needs checkpoint evaluations (not --eval-every 0)',
  })
  .refine((a) => a.method === 'sft,dpo' || (a.dpoBeta === null && a.dpoLearningRate === null && a.dpoMaxSteps === null), {
    message: '--dpo-beta, --dpo-learning-rate and --dpo-max-steps need --method sft,dpo',
  });
export type AlignArgs = z.infer<typeof AlignArgs>;

export const USAGE = `usage: studio align <policy> [options]
       studio frame <policy> [options]   (framing only: clauses and dataset version)
       studio view [options]             (the studio, web app and API, in one process: studio view --help)
       studio keys create|list|revoke|role ...   (a tenant's API keys: studio keys --help)

The policy is a Markdown (.md), plain-text (.txt), HTML (.html), PDF (.pdf) or Word (.docx)
document, told apart by its extension; HTML, PDF and DOCX are converted to Markdown first.

options:
  --model <name|path>   base model: ${DEFAULT_MODEL} (default), tiny, or a model folder
  --values <file>       context values and audit thresholds (default: values.json beside the policy)
  --seeds <file>        seed examples: JSON lines or an InstructLab qna.yaml
                        (default: seeds.jsonl, else qna.yaml, beside the policy)
  --data-dir <dir>      where everything is stored (default: ${ALIGN_DEFAULTS.dataDir})
  --epochs <n>          training epochs (default: ${ALIGN_DEFAULTS.epochs})
  --max-steps <n>       cap on optimiser steps, 0 for no cap (default: ${ALIGN_DEFAULTS.maxSteps})
  --max-eval <n>        held-out questions audited (default: ${ALIGN_DEFAULTS.maxEval})
  --max-attacks <n>     attacks from the rules asked of every variant by the audit (default: ${ALIGN_DEFAULTS.maxAttacks}; 0: no red team)
  --max-benign <n>      benign probes for over-refusal asked of every variant (default: ${ALIGN_DEFAULTS.maxBenign}; 0: none)
  --max-general-ability <n>  general-ability items answered by every variant (default: all; 0: none)
  --attacker            adaptive attacks in the audit: an attacker model rewrites the attack from each
                        reply, round after round (default attacker: the locally served --model)
  --attacker-url <url>  OpenAI-compatible endpoint of the attacker (API key from STUDIO_ATTACKER_API_KEY)
  --attacker-model <name>  the attacker model at --attacker-url
  --attacker-rounds <n> prompts the attacker tries per goal and variant, 1-20 (default: ${ALIGN_DEFAULTS.attackerRounds})
  --max-adaptive <n>    goals attacked adaptively, spread over clauses (default: ${ALIGN_DEFAULTS.maxAdaptive}; 0: none)
  --learning-rate <x>   LoRA learning rate (default: ${ALIGN_DEFAULTS.learningRate})
  --tenant <id>         tenant the data belongs to (default: ${ALIGN_DEFAULTS.tenant})
  --context <id>        context id (default: from the values file, else the policy's file name)
  --retrain             train again even if this exact run already produced an adapter
  --judge-url <url>     OpenAI-compatible endpoint of an LLM judge (API key from STUDIO_JUDGE_API_KEY)
  --judge-model <name>  the judge model: its 1-5 grades are added to the audit (default: no judge)
  --teacher             synthesise more examples with a teacher model (default teacher: the locally
                        served --model); kept only when grounded in their clauses and not duplicates
  --teacher-url <url>   OpenAI-compatible endpoint of the teacher (API key from STUDIO_TEACHER_API_KEY)
  --teacher-model <name>  the teacher model at --teacher-url
  --teacher-concurrency <n>  teacher requests in flight at once (default: ${ALIGN_DEFAULTS.teacherConcurrency})
  --teacher-per-clause <n>   cap on synthetic examples kept per clause (default: ${ALIGN_DEFAULTS.teacherPerClause})
  --teacher-max-clauses <n>  synthesise for the first n clauses that carry a rule only (default: all)
                        an interrupted synthesis resumes where it stopped when run again
  --method <sft|sft,dpo>  sft (default), or sft,dpo: after SFT, synthetic preference pairs from the
                        training examples, a DPO round from the SFT adapter, and an audit of base, SFT,
                        SFT + DPO and SFT + DPO + RAG
  --dpo-beta <x>        DPO beta: how far from the SFT adapter DPO may move (default: ${DEFAULT_DPO_HYPERPARAMETERS.dpo_beta})
  --dpo-learning-rate <x>  DPO learning rate (default: ${DEFAULT_DPO_HYPERPARAMETERS.learning_rate})
  --dpo-max-steps <n>   cap on DPO optimiser steps (default: ${DEFAULT_DPO_HYPERPARAMETERS.max_steps}, whatever --max-steps is)
  --eval-every <n>      checkpoint evaluation every n steps (and before the first and at the last):
                        greedy answers to held-out questions scored by token F1 and loss, 0 for none
                        (default: 20, and none for a run of fewer steps)
  --eval-items <n>      held-out questions per checkpoint evaluation (default: 8)
  --early-stop <metric>[:<patience>[:<min_delta>]]  stop when token_f1 or heldout_loss is worse than its
                        best by more than min_delta (default 0) in patience evaluations in a row
                        (default 2), and keep the best checkpoint (default: no early stop)`;

/** Parses the command line; throws InputError naming the problem. */
export function parseAlignArgs(argv: readonly string[]): AlignArgs {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        model: { type: 'string' },
        values: { type: 'string' },
        seeds: { type: 'string' },
        'data-dir': { type: 'string' },
        epochs: { type: 'string' },
        'max-steps': { type: 'string' },
        'max-eval': { type: 'string' },
        'max-attacks': { type: 'string' },
        'max-benign': { type: 'string' },
        'max-general-ability': { type: 'string' },
        attacker: { type: 'boolean' },
        'attacker-url': { type: 'string' },
        'attacker-model': { type: 'string' },
        'attacker-rounds': { type: 'string' },
        'max-adaptive': { type: 'string' },
        'learning-rate': { type: 'string' },
        tenant: { type: 'string' },
        context: { type: 'string' },
        retrain: { type: 'boolean' },
        'judge-url': { type: 'string' },
        'judge-model': { type: 'string' },
        teacher: { type: 'boolean' },
        'teacher-url': { type: 'string' },
        'teacher-model': { type: 'string' },
        'teacher-concurrency': { type: 'string' },
        'teacher-per-clause': { type: 'string' },
        'teacher-max-clauses': { type: 'string' },
        method: { type: 'string' },
        'dpo-beta': { type: 'string' },
        'dpo-learning-rate': { type: 'string' },
        'dpo-max-steps': { type: 'string' },
        'eval-every': { type: 'string' },
        'eval-items': { type: 'string' },
        'early-stop': { type: 'string' },
      },
    });
  } catch (error) {
    throw new InputError((error as Error).message);
  }
  const [command, policy, ...rest] = parsed.positionals;
  if (!command) throw new InputError('missing command: expected "align <policy>"');
  if (command !== 'align' && command !== 'frame') throw new InputError(`unknown command "${command}": expected "align", "frame" or "view"`);
  if (!policy) throw new InputError(`missing policy document: "studio ${command} <policy.md>"`);
  if (rest.length > 0) throw new InputError(`unexpected arguments: ${rest.join(' ')}`);
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const str = (name: string): string | undefined => (typeof v[name] === 'string' ? (v[name] as string) : undefined);
  const maxSteps = str('max-steps') ?? String(ALIGN_DEFAULTS.maxSteps);
  const evalEvery = str('eval-every');
  const earlyStop = str('early-stop');
  const [metric, patience, minDelta] = earlyStop?.split(':') ?? [];
  const result = AlignArgs.safeParse({
    command,
    policy,
    model: str('model') ?? DEFAULT_MODEL,
    values: str('values') ?? null,
    seeds: str('seeds') ?? null,
    dataDir: str('data-dir') ?? ALIGN_DEFAULTS.dataDir,
    epochs: str('epochs') ?? ALIGN_DEFAULTS.epochs,
    maxSteps: maxSteps === '0' ? null : maxSteps,
    maxEval: str('max-eval') ?? ALIGN_DEFAULTS.maxEval,
    maxAttacks: str('max-attacks') ?? ALIGN_DEFAULTS.maxAttacks,
    maxBenign: str('max-benign') ?? ALIGN_DEFAULTS.maxBenign,
    maxGeneralAbility: str('max-general-ability') ?? null,
    attacker: v['attacker'] === true || str('attacker-url') !== undefined || str('attacker-model') !== undefined,
    attackerUrl: str('attacker-url') ?? null,
    attackerModel: str('attacker-model') ?? null,
    attackerRounds: str('attacker-rounds') ?? ALIGN_DEFAULTS.attackerRounds,
    maxAdaptive: str('max-adaptive') ?? ALIGN_DEFAULTS.maxAdaptive,
    tenant: str('tenant') ?? ALIGN_DEFAULTS.tenant,
    context: str('context') ?? null,
    learningRate: str('learning-rate') ?? ALIGN_DEFAULTS.learningRate,
    retrain: v['retrain'] === true,
    judgeUrl: str('judge-url') ?? null,
    judgeModel: str('judge-model') ?? null,
    teacher: v['teacher'] === true || str('teacher-url') !== undefined || str('teacher-model') !== undefined,
    teacherUrl: str('teacher-url') ?? null,
    teacherModel: str('teacher-model') ?? null,
    teacherConcurrency: str('teacher-concurrency') ?? ALIGN_DEFAULTS.teacherConcurrency,
    teacherPerClause: str('teacher-per-clause') ?? ALIGN_DEFAULTS.teacherPerClause,
    teacherMaxClauses: str('teacher-max-clauses') ?? null,
    method: (str('method') ?? ALIGN_DEFAULTS.method).replace(/\s+/g, ''),
    dpoBeta: str('dpo-beta') ?? null,
    dpoLearningRate: str('dpo-learning-rate') ?? null,
    dpoMaxSteps: str('dpo-max-steps') ?? null,
    evalEvery: evalEvery === '0' ? null : evalEvery,
    evalItems: str('eval-items'),
    earlyStop: earlyStop === undefined ? null : { metric, patience: patience || 2, min_delta: minDelta || 0 },
  });
  if (!result.success) throw new InputError(result.error.issues.map((i) => i.message).join('; '));
  if (!result.data.attacker && (str('attacker-rounds') !== undefined || str('max-adaptive') !== undefined))
    throw new InputError('--attacker-rounds and --max-adaptive need an attacker (--attacker, or --attacker-url with --attacker-model)');
  return result.data;
}
