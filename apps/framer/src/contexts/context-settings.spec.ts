import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAuditThresholds } from '@studio/auditing';
import { contextFrom, ContextSettingsBody, thresholdsFor } from './context-settings';

const values = JSON.parse(readFileSync(join(__dirname, '../../../../examples/northwind-conduct/values.json'), 'utf8')) as unknown;

describe('context settings', () => {
  it('takes the thresholds from the values file’s audit section', () => {
    const body = ContextSettingsBody.parse({ name: 'Northwind', values });
    expect(thresholdsFor(body)).toEqual(
      parseAuditThresholds({
        gateVariant: 'aligned',
        minCorrectness: 0.8,
        minFaithfulness: 0.85,
        maxRefusalRate: 0.1,
        minClauseCoverage: 0.9,
      }),
    );
  });

  it('prefers explicit thresholds, and falls back to the defaults without values', () => {
    expect(thresholdsFor(ContextSettingsBody.parse({ name: 'x', values, thresholds: { minCorrectness: 0.3 } })).minCorrectness).toBe(0.3);
    expect(thresholdsFor(ContextSettingsBody.parse({ name: 'x' }))).toEqual(parseAuditThresholds(undefined));
  });

  it('keeps the creation time when settings are replaced', () => {
    const body = ContextSettingsBody.parse({ name: 'x' });
    const first = contextFrom('ctx-1', body, null, new Date('2026-01-01T00:00:00Z'));
    const second = contextFrom('ctx-1', { ...body, name: 'y' }, first, new Date('2026-02-01T00:00:00Z'));
    expect(second).toMatchObject({ name: 'y', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-02-01T00:00:00.000Z' });
  });

  it('refuses names with control or bidi-override characters, and seeds that are not JSON lines, naming them', () => {
    const issues = (body: unknown) =>
      ContextSettingsBody.safeParse(body).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(issues({ name: 'Conduct\u202Egpj' })).toEqual([
      expect.stringMatching(/^name: must not contain control or bidirectional-override characters \(found U\+202E/),
    ]);
    expect(issues({ name: 'a\u0000b' })).toEqual([expect.stringMatching(/^name: .*found U\+0000/)]);
    expect(issues({ name: 'x', seeds: 'plain text, not JSON' })).toEqual([expect.stringMatching(/^seeds: seeds line 1: not valid JSON/)]);
    expect(issues({ name: 'x', values: { ...(values as object), context: { id: 'c', name: 'N\u2067', documents: [] } } })).toEqual([
      expect.stringMatching(/^values\.context\.name: must not contain/),
    ]);
  });

  it('refuses unknown fields and invalid values, naming them', () => {
    const parsed = ContextSettingsBody.safeParse({ name: 'x', values: { values: [] }, colour: 'red' });
    expect(parsed.success).toBe(false);
    const paths = parsed.error?.issues.map((i) => i.path.join('.')) ?? [];
    expect(paths).toEqual(expect.arrayContaining(['values.context', '']));
  });
});
