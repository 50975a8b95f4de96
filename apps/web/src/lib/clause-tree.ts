import type { Clause } from './model';

export interface ClauseNode {
  clause: Clause;
  children: ClauseNode[];
  depth: number;
}

/** Characters after which a numbering can continue into a sub-clause: "3.2" → "3.2.1", "164.510(a)" → "164.510(a)(1)". */
const CONTINUATION = /^[.(\-\s/]/;

/**
 * The numbering tree of a document's clauses, in document order: a clause's parent is its
 * `parentId` when the API gives one that is present, else the clause whose numbering is the
 * longest proper prefix of its own at a separator ("3.2" for "3.2.1"). Clauses with no parent
 * among the clauses are roots. Derived from the numbering alone: no scheme is assumed.
 */
export function clauseTree(clauses: readonly Clause[]): ClauseNode[] {
  const nodes = new Map<string, ClauseNode>();
  const byNumbering = new Map<string, ClauseNode>();
  for (const clause of clauses) {
    const node: ClauseNode = { clause, children: [], depth: 0 };
    nodes.set(clause.id, node);
    const key = `${clause.documentId}\u0000${clause.numbering}`;
    if (!byNumbering.has(key)) byNumbering.set(key, node);
  }
  const roots: ClauseNode[] = [];
  for (const clause of clauses) {
    const node = nodes.get(clause.id) as ClauseNode;
    let parent: ClauseNode | undefined = clause.parentId ? nodes.get(clause.parentId) : undefined;
    if (!parent) {
      const numbering = clause.numbering;
      for (let end = numbering.length - 1; end > 0 && !parent; end--) {
        if (!CONTINUATION.test(numbering.slice(end))) continue;
        const prefix = numbering.slice(0, end).replace(/[.\s\-/]+$/, '');
        const candidate = prefix ? byNumbering.get(`${clause.documentId}\u0000${prefix}`) : undefined;
        if (candidate && candidate !== node) parent = candidate;
      }
    }
    if (parent && parent !== node && !isDescendant(parent, node)) parent.children.push(node);
    else roots.push(node);
  }
  const setDepth = (list: ClauseNode[], depth: number) => {
    for (const n of list) {
      n.depth = depth;
      setDepth(n.children, depth + 1);
    }
  };
  setDepth(roots, 0);
  return roots;
}

function isDescendant(candidate: ClauseNode, of: ClauseNode): boolean {
  const stack = [...of.children];
  while (stack.length) {
    const next = stack.pop() as ClauseNode;
    if (next === candidate) return true;
    stack.push(...next.children);
  }
  return false;
}

/** The clause's statement kinds, each once, in order of first appearance. */
export function kindsOf(clause: Clause): string[] {
  return [...new Set((clause.statements ?? []).map((s) => s.kind))];
}

/**
 * Clauses matching a search (every word, case-insensitive, in numbering, heading, text or a
 * statement) and a kind filter, with their ancestors kept so the tree still reads.
 */
export function filterTree(roots: readonly ClauseNode[], search: string, kind: string | null): ClauseNode[] {
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  const matches = (c: Clause): boolean => {
    if (kind && !kindsOf(c).includes(kind)) return false;
    if (!words.length) return true;
    const hay = [
      c.numbering,
      c.citation ?? '',
      c.heading ?? c.title ?? '',
      c.text,
      ...(c.statements ?? []).map((s) => s.sentence ?? s.text ?? ''),
    ]
      .join('\n')
      .toLowerCase();
    return words.every((w) => hay.includes(w));
  };
  const walk = (list: readonly ClauseNode[]): ClauseNode[] =>
    list.flatMap((n) => {
      const children = walk(n.children);
      return matches(n.clause) || children.length ? [{ ...n, children }] : [];
    });
  return walk(roots);
}
