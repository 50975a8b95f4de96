import { TrainingHyperparameters } from '@studio/contracts';
import {
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
});

describe('DEFAULT_DPO_HYPERPARAMETERS', () => {
  it('is a valid job section: the SFT defaults with the DPO step count, learning rate, beta and NLL weight', () => {
    expect(TrainingHyperparameters.parse(DEFAULT_DPO_HYPERPARAMETERS)).toEqual(DEFAULT_DPO_HYPERPARAMETERS);
    expect(DEFAULT_DPO_HYPERPARAMETERS).toMatchObject({ max_steps: 30, learning_rate: 1e-4, dpo_beta: 0.1, dpo_sft_weight: 1 });
    expect(DEFAULT_DPO_HYPERPARAMETERS.lora).toEqual(DEFAULT_HYPERPARAMETERS.lora);
  });
});
