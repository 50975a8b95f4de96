import { z } from 'zod';
import { SeedImportError } from './errors';
import { contradict } from './generate';
import { Clause, DocumentTree, Example, ExampleKind, ScenarioLabel } from './model';
import { numberingKey } from './parse';
import { valuesForClause, ContextValues } from './values';

/** One line of a context's `seeds.jsonl`. */
export const SeedLine = z.object({
  id: z.string().min(1),
  question: z.string().min(1),
  answer: z.string().min(1),
  clause_refs: z.array(z.string().min(1)).min(1, 'needs at least one clause reference'),
  kind: ExampleKind,
  label: ScenarioLabel.optional(),
});
export type SeedLine = z.infer<typeof SeedLine>;

export interface ImportSeedsOptions {
  values?: ContextValues | null;
}

/** "§3.1.4(b)", "3.1.4.b", " 3.2.1 " → "3.1.4.b", "3.2.1" (the id-safe form of a numbering, `numberingKey`, lower-cased). */
export function normaliseClauseRef(ref: string): string {
  return ref
    .trim()
    .replace(/^§\s*/, '')
    .replace(/\(\*?([a-z]{1,5}|\d{1,3})\*?\)/gi, '.$1')
    .toLowerCase();
}

/** Resolve a clause reference (a numbering path) to the clause it names; undefined when none does. */
export function resolveClauseRef(tree: DocumentTree, ref: string): Clause | undefined {
  const wanted = normaliseClauseRef(ref);
  return tree.clauses.find((c) => numberingKey(c.numbering).toLowerCase() === wanted);
}

function rejectedFor(seed: SeedLine): string | null {
  switch (seed.label) {
    case 'compliant':
      return 'No, this breaches the rules.';
    case 'violating':
      return 'Yes, this is fine under the rules.';
    case 'ambiguous':
      return 'Yes, this is clearly allowed; nothing else needs to be known.';
    default:
      return contradict(seed.answer);
  }
}

/**
 * Checks one seed line on its own: JSON, the fields, a label on scenarios only, an id not in
 * `ids` (which it joins). Null for a blank line; throws `SeedImportError` naming the line.
 */
function parseSeedLine(raw: string, lineNo: number, ids: Set<string>): SeedLine | null {
  if (raw.trim() === '') return null;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new SeedImportError(lineNo, `not valid JSON (${(e as Error).message})`);
  }
  const parsed = SeedLine.safeParse(json);
  if (!parsed.success) {
    throw new SeedImportError(lineNo, parsed.error.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`).join('; '));
  }
  const seed = parsed.data;
  if (ids.has(seed.id)) throw new SeedImportError(lineNo, `duplicate seed id "${seed.id}"`);
  ids.add(seed.id);
  if (seed.kind === 'scenario' && !seed.label) {
    throw new SeedImportError(lineNo, `scenario seed "${seed.id}" needs a label: compliant, violating or ambiguous`);
  }
  if (seed.kind === 'qa' && seed.label) {
    throw new SeedImportError(lineNo, `Q&A seed "${seed.id}" must not have a label (labels are for scenarios)`);
  }
  return seed;
}

/**
 * Checks seed examples (JSON lines) without a document: everything `importSeeds` checks except
 * the clause references, which only the document can resolve. Throws a `SeedImportError` naming
 * the first bad line and its problem.
 */
export function parseSeeds(jsonl: string): SeedLine[] {
  const ids = new Set<string>();
  return jsonl.split(/\r?\n/).flatMap((raw, index) => parseSeedLine(raw, index + 1, ids) ?? []);
}

/**
 * Import hand-written seed examples (JSON lines) into examples, resolving each clause reference
 * to the clause id in `tree`. Fails with a `SeedImportError` naming the line and the problem:
 * invalid JSON, a missing field, a label on a Q&A seed or none on a scenario, a duplicate id, or
 * a clause reference that matches no clause in the document.
 */
export function importSeeds(jsonl: string, tree: DocumentTree, options: ImportSeedsOptions = {}): Example[] {
  const examples: Example[] = [];
  const ids = new Set<string>();
  jsonl.split(/\r?\n/).forEach((raw, index) => {
    const lineNo = index + 1;
    const seed = parseSeedLine(raw, lineNo, ids);
    if (!seed) return;
    const clauses = seed.clause_refs.map((ref) => {
      const clause = resolveClauseRef(tree, ref);
      if (!clause) {
        throw new SeedImportError(
          lineNo,
          `seed "${seed.id}" cites unknown clause ref "${ref}": no clause numbered "${normaliseClauseRef(ref)}" in document ${tree.documentId}`,
        );
      }
      return clause;
    });
    examples.push(seedExample(seed, clauses, tree, options));
  });
  return examples;
}

/** A checked seed whose clause references are resolved to `clauses`, as an example of `tree`. */
export function seedExample(seed: SeedLine, clauses: readonly Clause[], tree: DocumentTree, options: ImportSeedsOptions = {}): Example {
  return Example.parse({
    id: `seed-${tree.documentId}-${seed.id}`,
    kind: seed.kind,
    source: 'seed',
    question: seed.question,
    answer: seed.answer,
    rejected: rejectedFor(seed),
    label: seed.label ?? null,
    clauseIds: clauses.map((c) => c.id),
    clauseRefs: clauses.map((c) => c.numbering),
    statementKind: null,
    values: valuesForClause(clauses[0]?.numbering ?? '', options.values),
  });
}
