import { z } from 'zod';
import {
  EntityCodec,
  EntityValidationError,
  entityKey,
  normalizeFilter,
  normalizeFindOptions,
  RepositoryQueryError,
} from './repository-support';
import { tenantId } from './tenant';

const Clause = z.object({ id: z.string().min(1), text: z.string(), rank: z.number().int(), tags: z.array(z.string()).default([]) });
type Clause = z.infer<typeof Clause>;
const acme = tenantId('acme');

describe('normalizeFilter', () => {
  it('turns equality and { in } into conditions and ignores undefined', () => {
    expect(normalizeFilter<Clause>('clauses', { text: 'a', rank: { in: [1, 2] }, id: undefined })).toEqual([
      { field: 'text', op: 'eq', value: 'a' },
      { field: 'rank', op: 'in', values: [1, 2] },
    ]);
    expect(normalizeFilter('clauses', undefined)).toEqual([]);
  });

  it('rejects reserved fields, operators and nested values, naming collection and field', () => {
    expect(() => normalizeFilter('clauses', { tenantId: 'other' })).toThrow(/collection "clauses": cannot filter on field "tenantId"/);
    expect(() => normalizeFilter('clauses', { _id: 'x' })).toThrow(RepositoryQueryError);
    expect(() => normalizeFilter('clauses', { $where: 'x' })).toThrow(/field "\$where"/);
    expect(() => normalizeFilter('clauses', { 'a.b': 1 })).toThrow(/field "a.b"/);
    expect(() => normalizeFilter('clauses', { rank: { $gt: 1 } })).toThrow(/filter on "rank" must be a value or \{ in: \[...\] \}/);
    expect(() => normalizeFilter('clauses', { tags: ['a'] })).toThrow(/filter on "tags" accepts strings/);
    expect(() => normalizeFilter('clauses', { rank: { in: [{ a: 1 }] } })).toThrow(/\{ in \} accepts/);
  });
});

describe('normalizeFindOptions', () => {
  it('keeps sort order and validates limit/skip', () => {
    expect(normalizeFindOptions<Clause>('clauses', { sort: { rank: -1, text: 1 }, limit: 5, skip: 2 })).toEqual({
      sort: [
        { field: 'rank', direction: -1 },
        { field: 'text', direction: 1 },
      ],
      limit: 5,
      skip: 2,
    });
    expect(normalizeFindOptions('clauses', undefined)).toEqual({ sort: [], limit: null, skip: 0 });
    expect(() => normalizeFindOptions('clauses', { limit: -1 })).toThrow(/limit must be a non-negative integer, got -1/);
    expect(() => normalizeFindOptions('clauses', { skip: 1.5 })).toThrow(/skip must be/);
    expect(() => normalizeFindOptions<Clause>('clauses', { sort: { rank: 2 as 1 } })).toThrow(/sort direction of "rank"/);
  });
});

describe('EntityCodec', () => {
  const codec = new EntityCodec<Clause>({ collection: 'clauses', schema: Clause });

  it('returns the schema output for writing (defaults applied, unknown keys dropped)', () => {
    const input = { id: 'c1', text: 't', rank: 1, extra: true } as unknown as Clause;
    expect(codec.forWrite(acme, input)).toEqual({ id: 'c1', text: 't', rank: 1, tags: [] });
  });

  it('names collection, entity and field of an invalid write', () => {
    const bad = { id: 'c1', text: 5, rank: 1 } as unknown as Clause;
    expect(() => codec.forWrite(acme, bad)).toThrow(EntityValidationError);
    expect(() => codec.forWrite(acme, bad)).toThrow(/collection "clauses": refusing to write "c1": field "text": /);
  });

  it('refuses values a JSON store would not keep, and a foreign tenantId', () => {
    const WithDate = z.object({ id: z.string(), at: z.date() });
    const dated = new EntityCodec({ collection: 'events', schema: WithDate });
    expect(() => dated.forWrite(acme, { id: 'e', at: new Date() })).toThrow(/field "at": holds a Date/);
    const Owned = z.object({ id: z.string(), tenantId: z.string() });
    const owned = new EntityCodec({ collection: 'owned', schema: Owned });
    expect(() => owned.forWrite(acme, { id: 'o', tenantId: 'globex' })).toThrow(
      /field "tenantId": is "globex" but the entity is written for tenant "acme"/,
    );
    expect(owned.forWrite(acme, { id: 'o', tenantId: 'acme' })).toEqual({ id: 'o', tenantId: 'acme' });
    expect(owned.fromStored({ _id: 'acme/o', id: 'o', tenantId: 'acme' })).toEqual({ id: 'o', tenantId: 'acme' });
  });

  it('drops store bookkeeping on read and rejects documents that no longer match', () => {
    expect(codec.fromStored({ _id: 'acme/c1', tenantId: 'acme', id: 'c1', text: 't', rank: 1, tags: ['x'] })).toEqual({
      id: 'c1',
      text: 't',
      rank: 1,
      tags: ['x'],
    });
    const strict = new EntityCodec({ collection: 'strict', schema: Clause.strict() });
    expect(strict.fromStored({ _id: 'acme/c1', tenantId: 'acme', id: 'c1', text: 't', rank: 1 })).toEqual({
      id: 'c1',
      text: 't',
      rank: 1,
      tags: [],
    });
    expect(() => codec.fromStored({ id: 'c1', text: 't', rank: 'high' })).toThrow(
      /collection "clauses": stored document does not match the schema "c1": field "rank"/,
    );
  });

  it('rejects bad collection names', () => {
    expect(() => new EntityCodec({ collection: 'a;drop', schema: Clause })).toThrow(/invalid collection name "a;drop"/);
  });
});

describe('entityKey', () => {
  it('keeps tenants apart for the same id', () => {
    expect(entityKey(acme, 'x')).not.toBe(entityKey(tenantId('acme2'), 'x'));
    expect(entityKey(acme, 'a/b')).toBe('acme/a/b');
  });
});
