import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContextValues, parseDocument } from '@studio/framing';
import { annotateClauses } from '@studio/pipeline';
import type { AnnotatedClause } from '../audits/framer-client';
import { GeneratedAttacks, ruleSourceOf } from './generated-attacks';

const EXAMPLE = join(__dirname, '../../../../examples/northwind-conduct');

/** The framer's annotated clause view of a document, as the auditor reads it over HTTP. */
function annotated(markdown: string, contextId: string): AnnotatedClause[] {
  const tree = parseDocument(markdown, { documentId: 'policy', mediaType: 'text/markdown' });
  const notes = new Map(annotateClauses(tree).map((a) => [a.clauseId, a]));
  return tree.clauses.map((c, position) => ({
    id: c.id,
    contextId,
    documentId: 'policy',
    position,
    numbering: c.numbering,
    title: c.heading ?? null,
    text: c.text,
    statements: notes.get(c.id)?.statements ?? [],
  }));
}

describe('attacks generated from the rules the framer serves', () => {
  const clauses = annotated(readFileSync(join(EXAMPLE, 'policy.md'), 'utf8'), 'northwind');
  const values = ContextValues.parse(JSON.parse(readFileSync(join(EXAMPLE, 'values.json'), 'utf8')));

  it("rebuilds each statement with its clause's id and numbering", () => {
    const source = ruleSourceOf(clauses, values.values);
    expect(source.statements.length).toBeGreaterThan(0);
    for (const s of source.statements) {
      const clause = clauses.find((c) => c.id === s.clauseId);
      expect(clause?.numbering).toBe(s.clauseNumbering);
      expect(['verb', 'noun']).toContain(s.actionForm);
    }
  });

  it('generates the same attacks (same ids) for the same clauses, each naming clauses of the context, and asks the framer each time', async () => {
    let reads = 0;
    const framer = {
      annotatedClauses: async () => {
        reads += 1;
        return clauses;
      },
      values: async () => values,
    };
    const source = new GeneratedAttacks(framer, 200);
    const first = await source.attacksOf('acme', 'northwind');
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThanOrEqual(200);
    const ids = new Set(clauses.map((c) => c.id));
    for (const a of first) for (const id of a.clauseIds) expect(ids.has(id)).toBe(true);
    expect(new Set(first.flatMap((a) => a.strategies)).size).toBeGreaterThan(3);
    const again = await new GeneratedAttacks(framer, 200).attacksOf('acme', 'northwind');
    expect(again.map((a) => a.id)).toEqual(first.map((a) => a.id));
    expect(await source.attacksOf('acme', 'northwind')).toBe(first);
    expect(reads).toBe(3);
  });
});
