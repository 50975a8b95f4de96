import { pointId, uuidV5 } from './point-id';

describe('uuidV5', () => {
  it('matches the RFC 9562 example (DNS namespace, "www.example.com")', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('rejects a namespace that is not a UUID', () => {
    expect(() => uuidV5('x', 'not-a-uuid')).toThrow('invalid UUID "not-a-uuid"');
  });
});

describe('pointId', () => {
  it('is a stable version-5 UUID of tenant, context and id', () => {
    const id = pointId('acme', 'bcg', 'clause-1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(pointId('acme', 'bcg', 'clause-1')).toBe(id);
  });

  it('differs between tenants, contexts and ids, including ones that would collide when concatenated', () => {
    const ids = [
      pointId('acme', 'bcg', 'clause-1'),
      pointId('globex', 'bcg', 'clause-1'),
      pointId('acme', 'other', 'clause-1'),
      pointId('acme', 'bcg', 'clause-2'),
      pointId('acme', 'bcgc', 'lause-1'),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });
});
