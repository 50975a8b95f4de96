import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  buildCloudEvent,
  ContractViolation,
  decodeEvent,
  DOCUMENT_UPLOADED_V1,
  jsonSchemas,
  parseEvent,
  parseWith,
  RuntimeProgressV1,
  TOPIC_NAMES,
  TOPIC_PATTERN,
  TrainingJobV1,
  TRAINING_RUN_FAILED_V1,
} from './index';

const uploaded = () =>
  buildCloudEvent({
    topic: DOCUMENT_UPLOADED_V1,
    source: '/studio/gateway',
    tenantId: 'acme',
    contextId: 'acme-conduct',
    data: {
      version: 'v1' as const,
      contextId: 'acme-conduct',
      documentId: 'doc-1',
      filename: 'policy.md',
      mediaType: 'text/markdown' as const,
      sha256: 'a'.repeat(64),
      sizeBytes: 1234,
      storageUri: 'file:///tmp/policy.md',
    },
  });

describe('topic registry', () => {
  it('names every topic <domain>.<entity>.<event>.v<N>', () => {
    expect(TOPIC_NAMES.length).toBeGreaterThanOrEqual(10);
    for (const topic of TOPIC_NAMES) expect(topic).toMatch(TOPIC_PATTERN);
  });

  it('rejects malformed topic names', () => {
    for (const bad of ['policy.document.uploaded', 'Policy.document.uploaded.v1', 'a.b.v1', 'a.b.c.v0']) {
      expect(bad).not.toMatch(TOPIC_PATTERN);
    }
  });
});

describe('CloudEvents envelope', () => {
  it('builds a valid structured CloudEvent keyed by context', () => {
    const event = parseEvent(DOCUMENT_UPLOADED_V1, uploaded());
    expect(event.specversion).toBe('1.0');
    expect(event.type).toBe('studio.policy.document.uploaded.v1');
    expect(event.dataschema).toBe('urn:studio:schema:policy.document.uploaded.v1');
    expect(event.tenantid).toBe('acme');
    expect(event.partitionkey).toBe('acme-conduct');
    expect(event.data.filename).toBe('policy.md');
  });

  it('names the bad field when data breaks the schema', () => {
    const event = uploaded();
    (event.data as { sizeBytes: unknown }).sizeBytes = -1;
    expect(() => parseEvent(DOCUMENT_UPLOADED_V1, event)).toThrow(/sizeBytes/);
  });

  it('rejects an event published on the wrong topic', () => {
    expect(() => parseEvent(TRAINING_RUN_FAILED_V1, uploaded())).toThrow(ContractViolation);
  });

  it('rejects a missing tenant', () => {
    const { tenantid: _t, ...rest } = uploaded();
    expect(() => parseEvent(DOCUMENT_UPLOADED_V1, rest)).toThrow(/tenantid/);
  });

  it('gives a reason for non-JSON and empty messages', () => {
    expect(() => decodeEvent(DOCUMENT_UPLOADED_V1, Buffer.from('{not json'))).toThrow(/not JSON/);
    expect(() => decodeEvent(DOCUMENT_UPLOADED_V1, null)).toThrow(/no value/);
    expect(decodeEvent(DOCUMENT_UPLOADED_V1, JSON.stringify(uploaded())).data.documentId).toBe('doc-1');
  });
});

describe('job and runtime contracts', () => {
  const job = {
    schema_version: 'v1',
    run_id: 'run-1',
    tenant_id: 'acme',
    context_id: 'acme-conduct',
    method: 'sft',
    base_model: 'tiny',
    dataset: { train_path: '/d/train.jsonl', eval_path: null, sha256: 'b'.repeat(64), format: 'conversational' },
    hyperparameters: {
      epochs: 1,
      max_steps: null,
      learning_rate: 2e-4,
      batch_size: 4,
      gradient_accumulation_steps: 1,
      max_seq_length: 512,
      seed: 7,
      eval_ratio: 0.1,
      checkpoint_every_steps: 10,
      adapter: 'lora',
      lora: { r: 8, alpha: 16, dropout: 0.05, target_modules: 'all-linear' },
      dpo_beta: null,
    },
    output_dir: '/tmp/out',
  };

  it('accepts a complete training job', () => {
    expect(parseWith(TrainingJobV1, job, 'training job').run_id).toBe('run-1');
  });

  it('starts from a fresh adapter unless init_adapter names one', () => {
    expect(parseWith(TrainingJobV1, job, 'training job').init_adapter).toBeNull();
    const dpo = { ...job, method: 'dpo', dataset: { ...job.dataset, format: 'preference' }, init_adapter: '/runs/sft/artifact' };
    expect(parseWith(TrainingJobV1, dpo, 'training job').init_adapter).toBe('/runs/sft/artifact');
    expect(() => parseWith(TrainingJobV1, { ...dpo, init_adapter: '' }, 'training job')).toThrow(/init_adapter/);
  });

  it('takes an optional non-negative dpo_sft_weight', () => {
    const withWeight = (w: unknown) => ({ ...job, hyperparameters: { ...job.hyperparameters, dpo_sft_weight: w } });
    expect(parseWith(TrainingJobV1, withWeight(1), 'training job').hyperparameters.dpo_sft_weight).toBe(1);
    expect(parseWith(TrainingJobV1, withWeight(null), 'training job').hyperparameters.dpo_sft_weight).toBeNull();
    expect(parseWith(TrainingJobV1, job, 'training job').hyperparameters.dpo_sft_weight).toBeUndefined();
    expect(() => parseWith(TrainingJobV1, withWeight(-1), 'training job')).toThrow(/dpo_sft_weight/);
  });

  it('takes optional checkpoint evaluations and the held-out file they answer', () => {
    const settings = { every_steps: 20, items: 8, max_new_tokens: 112, early_stop: { metric: 'token_f1', patience: 2, min_delta: 0.01 } };
    const withEval = {
      ...job,
      dataset: { ...job.dataset, held_out_path: '/d/held-out.jsonl' },
      hyperparameters: { ...job.hyperparameters, checkpoint_eval: settings },
    };
    const parsed = parseWith(TrainingJobV1, withEval, 'training job');
    expect(parsed.hyperparameters.checkpoint_eval).toEqual(settings);
    expect(parsed.dataset.held_out_path).toBe('/d/held-out.jsonl');
    expect(parseWith(TrainingJobV1, job, 'training job').hyperparameters.checkpoint_eval).toBeUndefined();
    const bad = (patch: object) => ({
      ...withEval,
      hyperparameters: { ...withEval.hyperparameters, checkpoint_eval: { ...settings, ...patch } },
    });
    expect(() => parseWith(TrainingJobV1, bad({ every_steps: 0 }), 'training job')).toThrow(/checkpoint_eval/);
    expect(() => parseWith(TrainingJobV1, bad({ early_stop: { metric: 'bleu', patience: 1, min_delta: 0 } }), 'training job')).toThrow(
      /early_stop/,
    );
  });

  it('carries checkpoint evaluations as progress lines', () => {
    const line = {
      schema_version: 'v1',
      event: 'checkpoint_eval',
      run_id: 'run-1',
      time: '2026-11-26T10:00:00.000Z',
      step: 20,
      total_steps: 40,
      items: 8,
      token_f1: 0.31,
      heldout_loss: 1.7,
      seconds: 2.5,
      early_stop: { metric: 'heldout_loss', best_step: 0, best_value: 1.6, regressions: 1, patience: 2, stopped: false },
    };
    expect(RuntimeProgressV1.parse(line)).toEqual(line);
    expect(RuntimeProgressV1.parse({ ...line, early_stop: null }).event).toBe('checkpoint_eval');
    expect(() => RuntimeProgressV1.parse({ ...line, token_f1: 1.5 })).toThrow();
    expect(() => RuntimeProgressV1.parse({ ...line, items: 0 })).toThrow();
  });

  it('requires lora settings for a LoRA adapter', () => {
    const bad = { ...job, hyperparameters: { ...job.hyperparameters, lora: null } };
    expect(() => parseWith(TrainingJobV1, bad, 'training job')).toThrow(/lora settings are required/);
  });

  it('discriminates progress lines by event', () => {
    const step = RuntimeProgressV1.parse({
      schema_version: 'v1',
      event: 'step',
      run_id: 'run-1',
      time: '2026-11-26T10:00:00.000Z',
      step: 3,
      total_steps: 10,
      epoch: 0.3,
      loss: 1.5,
      learning_rate: 1e-4,
      tokens_per_s: 900,
      eta_s: 12,
    });
    expect(step.event).toBe('step');
    expect(() => RuntimeProgressV1.parse({ ...step, event: 'exploded' })).toThrow();
  });
});

describe('checked-in JSON Schemas', () => {
  const dir = join(__dirname, '..', 'json-schema');
  const onDisk = (d: string): string[] =>
    readdirSync(d).flatMap((name) => {
      const p = join(d, name);
      return statSync(p).isDirectory() ? onDisk(p) : [relative(dir, p)];
    });

  it('match the zod schemas exactly (run `npm run contracts:schemas` after changing a contract)', () => {
    const expected = jsonSchemas();
    expect(onDisk(dir).sort()).toEqual(Object.keys(expected).sort());
    for (const [file, schema] of Object.entries(expected)) {
      expect({ file, schema: JSON.parse(readFileSync(join(dir, file), 'utf8')) }).toEqual({ file, schema });
    }
  });
});
