import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from './args';
import { auditThresholdsFor } from '@studio/pipeline';
import { loadInputs, mediaTypeOf, parseValues } from './inputs';

const VALUES = {
  context: { id: 'acme', name: 'Acme', documents: [{ id: 'acme-cg', path: 'rules.md', mediaType: 'text/markdown' }] },
  values: [{ name: 'honesty', priority: 1, description: 'Be honest.', sections: ['1'] }],
  audit: { min_aligned_correctness: 0.7, min_faithfulness: 0.6, max_benign_refusal_rate: 0.2 },
};

describe('inputs', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'studio-inputs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes values and seeds from beside the policy and the ids from the values file', async () => {
    writeFileSync(join(dir, 'rules.md'), '# Rules\n\n**1.1** Employees must be honest.\n');
    writeFileSync(join(dir, 'values.json'), JSON.stringify(VALUES));
    writeFileSync(join(dir, 'seeds.jsonl'), '');
    const inputs = await loadInputs({ policy: join(dir, 'rules.md'), values: null, seeds: null, context: null });
    expect(inputs).toMatchObject({
      contextId: 'acme',
      documentId: 'acme-cg',
      mediaType: 'text/markdown',
      valuesPath: join(dir, 'values.json'),
      seedsPath: join(dir, 'seeds.jsonl'),
    });
    expect(auditThresholdsFor(inputs.values, 'values')).toMatchObject({
      gateVariant: 'aligned',
      minCorrectness: 0.7,
      minFaithfulness: 0.6,
      maxRefusalRate: 0.2,
    });
  });

  it('works without values or seeds, naming the context after the file', async () => {
    writeFileSync(join(dir, 'Travel Policy.txt'), 'Employees must book economy class.');
    const inputs = await loadInputs({ policy: join(dir, 'Travel Policy.txt'), values: null, seeds: null, context: null });
    expect(inputs).toMatchObject({ values: null, seedsJsonl: null, mediaType: 'text/plain' });
    expect(inputs.contextId).toMatch(/^travel-policy/);
    expect(auditThresholdsFor(null, 'defaults').minCorrectness).toBe(0.5);
  });

  it.each<[string, { policy?: string; values?: string; seeds?: string }, RegExp]>([
    ['a missing policy', { policy: 'nope.md' }, /policy document .*nope\.md does not exist/],
    ['a folder as policy', { policy: '.' }, /is not a file/],
    ['a missing values file', { values: 'none.json' }, /values file .*none\.json does not exist/],
    ['a missing seeds file', { seeds: 'none.jsonl' }, /seeds file .*none\.jsonl does not exist/],
  ])('rejects %s', async (_what, override, message) => {
    writeFileSync(join(dir, 'p.md'), '# P\n');
    const args = { values: null, seeds: null, context: null, ...override, policy: join(dir, override.policy ?? 'p.md') };
    await expect(loadInputs(args)).rejects.toThrow(InputError);
    await expect(loadInputs(args)).rejects.toThrow(message);
  });

  it('names the problem in an invalid values file', () => {
    expect(() => parseValues('{', 'v.json')).toThrow(/v\.json is not valid JSON/);
    expect(() => parseValues(JSON.stringify({ ...VALUES, values: [] }), 'v.json')).toThrow(/v\.json is invalid: values:/);
  });

  it('knows Markdown by its extension', () => {
    expect(mediaTypeOf('a.MD')).toBe('text/markdown');
    expect(mediaTypeOf('a.markdown')).toBe('text/markdown');
    expect(mediaTypeOf('a.txt')).toBe('text/plain');
  });
});
