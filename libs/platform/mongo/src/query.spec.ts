import { normalizeFilter, normalizeFindOptions, tenantId } from '@studio/ports';
import { toMongoFilter, toMongoSort } from './query';

interface Doc {
  id: string;
  status: string;
  rank: number;
  tenantId?: string;
}

describe('toMongoFilter', () => {
  it('translates equality and { in } and always adds the tenant', () => {
    const conditions = normalizeFilter<Doc>('docs', { status: 'ready', rank: { in: [1, 2] } });
    expect(toMongoFilter(tenantId('acme'), conditions)).toEqual({ status: { $eq: 'ready' }, rank: { $in: [1, 2] }, tenantId: 'acme' });
  });

  it('uses $eq so a value can never be read as an operator, and null matches like MongoDB does', () => {
    expect(toMongoFilter(tenantId('acme'), normalizeFilter<Doc>('docs', { status: null as unknown as string }))).toEqual({
      status: { $eq: null },
      tenantId: 'acme',
    });
  });

  it('gives a filter no way to name another tenant', () => {
    expect(() => toMongoFilter(tenantId('acme'), normalizeFilter<Doc>('docs', { tenantId: 'globex' }))).toThrow(
      /cannot filter on field "tenantId"/,
    );
  });
});

describe('toMongoSort', () => {
  it('keeps the caller order and ends with the id as tie-breaker', () => {
    expect(Object.entries(toMongoSort(normalizeFindOptions<Doc>('docs', { sort: { rank: -1, status: 1 } })))).toEqual([
      ['rank', -1],
      ['status', 1],
      ['id', 1],
    ]);
    expect(toMongoSort(normalizeFindOptions<Doc>('docs', { sort: { id: -1 } }))).toEqual({ id: -1 });
  });
});
