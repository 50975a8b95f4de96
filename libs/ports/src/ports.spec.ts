import { backoffDelayMs, reciprocalRankFusion, tenantId, tenantKey, type VectorHit } from './index';

describe('backoffDelayMs', () => {
  const policy = { maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 1000 };
  it('grows exponentially and stays within the cap', () => {
    expect(backoffDelayMs(policy, 1, () => 1)).toBe(100);
    expect(backoffDelayMs(policy, 3, () => 1)).toBe(400);
    expect(backoffDelayMs(policy, 10, () => 1)).toBe(1000);
    expect(backoffDelayMs(policy, 3, () => 0)).toBe(200);
  });
});

describe('reciprocalRankFusion', () => {
  const hit = (id: string): VectorHit => ({ id, score: 0, payload: { tenantId: 't', contextId: 'c' } });
  it('ranks items found by both rankings first', () => {
    const fused = reciprocalRankFusion(
      [
        [hit('a'), hit('b'), hit('c')],
        [hit('c'), hit('d'), hit('a')],
      ],
      3,
    );
    expect(fused.map((h) => h.id)).toEqual(['a', 'c', 'b']);
    expect(fused[0]?.score).toBeCloseTo(1 / 61 + 1 / 63);
  });
});

describe('tenantId', () => {
  it('accepts valid ids and names the bad one', () => {
    expect(tenantId('acme-1')).toBe('acme-1');
    expect(() => tenantId('')).toThrow(/invalid tenant id ""/);
    expect(() => tenantId('a b')).toThrow(/"a b"/);
  });

  it('refuses ids that are path segments of their own ("." and ".."), since the artifacts of a tenant live under tenants/<id>/', () => {
    for (const bad of ['.', '..', '.hidden', '-x', ':x']) expect(() => tenantId(bad)).toThrow(/starting with a letter or digit/);
    expect(tenantId('acme.eu:prod')).toBe('acme.eu:prod');
    expect(tenantKey('acme', 'datasets/v1/train.jsonl')).toBe('tenants/acme/datasets/v1/train.jsonl');
  });
});
