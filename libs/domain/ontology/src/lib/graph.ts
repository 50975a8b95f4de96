import { RELATION_TYPES, type GraphDiff, type Relation, type RelationCounts } from '@studio/contracts';
import type { ExtractedGraph } from './model';

/** Concepts and relations added and removed from one graph to the next (ids, sorted); every concept and relation is added when there is no graph before. */
export function diffGraphs(before: ExtractedGraph | null, after: ExtractedGraph): GraphDiff {
  const ids = (items: ReadonlyArray<{ id: string }>): Set<string> => new Set(items.map((i) => i.id));
  const beforeConcepts = ids(before?.concepts ?? []);
  const beforeRelations = ids(before?.relations ?? []);
  const afterConcepts = ids(after.concepts);
  const afterRelations = ids(after.relations);
  const minus = (a: Set<string>, b: Set<string>): string[] => [...a].filter((x) => !b.has(x)).sort();
  return {
    conceptsAdded: minus(afterConcepts, beforeConcepts),
    conceptsRemoved: minus(beforeConcepts, afterConcepts),
    relationsAdded: minus(afterRelations, beforeRelations),
    relationsRemoved: minus(beforeRelations, afterRelations),
  };
}

/** The number of relations of each type; every type is present (0 when none). */
export function relationCounts(relations: readonly Relation[]): RelationCounts {
  const counts = Object.fromEntries(RELATION_TYPES.map((t) => [t, 0])) as Record<(typeof RELATION_TYPES)[number], number>;
  for (const r of relations) {
    if (!(r.type in counts)) throw new Error(`relationCounts: unknown relation type ${JSON.stringify(r.type)} on ${r.id}`);
    counts[r.type] += 1;
  }
  return counts;
}
