import { TrainingHyperparameters } from '@studio/contracts';
import {
  DEFAULT_CHECKPOINT_EVAL,
  DEFAULT_DPO_HYPERPARAMETERS,
  DEFAULT_HYPERPARAMETERS,
  InvalidHyperparametersError,
  resolveHyperparameters,
} from './hyperparameters';
import { trainingRunId } from './train';

describe('resolveHyperparameters', () => {
  it('applies overrides to the defaults, merging lora field by field', () => {
    expect(resolveHyperparameters({ max_steps: 10, lora: { r: 8 } })).toEqual({
      ...DEFAULT_HYPERPARAMETERS,
      max_steps: 10,
      lora: { ...DEFAULT_HYPERPARAMETERS.lora, r: 8 },
      // 10 steps: shorter than the default evaluations' interval.
      checkpoint_eval: null,
    });
  });

  it('names every unknown or invalid field', () => {
    expect(() => resolveHyperparameters({ warmup: 3 })).toThrow(/warmup: unknown hyper-parameter/);
    const error = (() => {
      try {
        resolveHyperparameters({ max_steps: -1, learning_rate: 'fast' });
      } catch (e) {
        return e as InvalidHyperparametersError;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(InvalidHyperparametersError);
    expect(error?.issues.map((i) => i.split(':')[0]).sort()).toEqual(['learning_rate', 'max_steps']);
  });

  it('names the same inputs the same run', () => {
    const h = resolveHyperparameters({ max_steps: 10 });
    expect(trainingRunId('a'.repeat(64), 'tiny', h)).toBe(trainingRunId('a'.repeat(64), 'tiny', { ...h }));
    expect(trainingRunId('a'.repeat(64), 'tiny', h)).not.toBe(trainingRunId('a'.repeat(64), 'tiny', { ...h, seed: 1 }));
    expect(trainingRunId('a'.repeat(64), 'tiny', h)).toMatch(/^run-[0-9a-f]{16}$/);
  });

  it('starts a dpo run from the dpo defaults (beta 0.1) and refuses a beta for other methods', () => {
    expect(resolveHyperparameters({}, 'dpo')).toEqual(DEFAULT_DPO_HYPERPARAMETERS);
    expect(resolveHyperparameters({ dpo_beta: 0.3 }, 'dpo').dpo_beta).toBe(0.3);
    expect(resolveHyperparameters({}, 'sft').dpo_beta).toBeNull();
    expect(() => resolveHyperparameters({ dpo_beta: 0.3 }, 'reward')).toThrow(
      /dpo_beta: only a dpo run has this setting \(this run's method is reward\)/,
    );
    expect(() => resolveHyperparameters({ dpo_beta: 0 }, 'dpo')).toThrow(InvalidHyperparametersError);
  });

  it('evaluates checkpoints by default (not for a reward model), merges overrides field by field and checks them', () => {
    expect(DEFAULT_HYPERPARAMETERS.checkpoint_eval).toEqual({ every_steps: 20, items: 8, max_new_tokens: 64, early_stop: null });
    expect(resolveHyperparameters({}, 'dpo').checkpoint_eval).toEqual(DEFAULT_CHECKPOINT_EVAL);
    expect(resolveHyperparameters({}, 'reward').checkpoint_eval).toBeNull();
    const earlyStop = { metric: 'heldout_loss', patience: 2, min_delta: 0.01 };
    expect(resolveHyperparameters({ checkpoint_eval: { every_steps: 5, early_stop: earlyStop } }).checkpoint_eval).toEqual({
      ...DEFAULT_CHECKPOINT_EVAL,
      every_steps: 5,
      early_stop: earlyStop,
    });
    expect(resolveHyperparameters({ checkpoint_eval: null }).checkpoint_eval).toBeNull();
    expect(() => resolveHyperparameters({ checkpoint_eval: { items: 0 } })).toThrow(/checkpoint_eval\.items:/);
    expect(() => resolveHyperparameters({ checkpoint_eval: { early_stop: { ...earlyStop, metric: 'bleu' } } })).toThrow(
      /checkpoint_eval\.early_stop\.metric:/,
    );
    expect(() => resolveHyperparameters({ checkpoint_eval: { every_steps: 5 } }, 'reward')).toThrow(
      /checkpoint_eval: a reward model does not answer questions/,
    );
    expect(resolveHyperparameters({ checkpoint_eval: null }, 'reward').checkpoint_eval).toBeNull();
  });

  it('leaves the default evaluations out of runs shorter than their interval, unless asked', () => {
    expect(resolveHyperparameters({ max_steps: 12 }).checkpoint_eval).toBeNull();
    expect(resolveHyperparameters({ max_steps: 3 }, 'dpo').checkpoint_eval).toBeNull();
    expect(resolveHyperparameters({ max_steps: 20 }).checkpoint_eval).toEqual(DEFAULT_CHECKPOINT_EVAL);
    expect(resolveHyperparameters({ max_steps: null }).checkpoint_eval).toEqual(DEFAULT_CHECKPOINT_EVAL);
    expect(resolveHyperparameters({ max_steps: 12, checkpoint_eval: { every_steps: 4 } }).checkpoint_eval).toEqual({
      ...DEFAULT_CHECKPOINT_EVAL,
      every_steps: 4,
    });
    expect(resolveHyperparameters({ max_steps: 12, checkpoint_eval: {} }).checkpoint_eval).toEqual(DEFAULT_CHECKPOINT_EVAL);
  });

  it('names a dpo run by its method, parent adapter and preference dataset too', () => {
    const h = resolveHyperparameters({}, 'dpo');
    const lineage = { method: 'dpo' as const, parentAdapterId: 'adapter-1', preferenceDatasetSha256: 'b'.repeat(64) };
    const id = trainingRunId('a'.repeat(64), 'tiny', h, lineage);
    expect(id).toMatch(/^run-dpo-[0-9a-f]{16}$/);
    expect(trainingRunId('a'.repeat(64), 'tiny', h, { ...lineage, parentAdapterId: 'adapter-2' })).not.toBe(id);
    expect(trainingRunId('a'.repeat(64), 'tiny', h, { ...lineage, preferenceDatasetSha256: 'c'.repeat(64) })).not.toBe(id);
    expect(trainingRunId('a'.repeat(64), 'tiny', h, { ...lineage, method: 'reward', parentAdapterId: null })).toMatch(/^run-reward-/);
  });
});

describe('DEFAULT_DPO_HYPERPARAMETERS', () => {
  it('is a valid job section: the SFT defaults with the DPO step count, learning rate, beta and NLL weight', () => {
    expect(TrainingHyperparameters.parse(DEFAULT_DPO_HYPERPARAMETERS)).toEqual(DEFAULT_DPO_HYPERPARAMETERS);
    expect(DEFAULT_DPO_HYPERPARAMETERS).toMatchObject({ max_steps: 80, learning_rate: 3e-4, dpo_beta: 0.1, dpo_sft_weight: 1 });
    expect(DEFAULT_DPO_HYPERPARAMETERS.lora).toEqual(DEFAULT_HYPERPARAMETERS.lora);
  });
});
