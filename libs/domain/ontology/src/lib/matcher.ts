import type { Concept } from '@studio/contracts';
import { singular } from './labels';

export interface ConceptMatch {
  conceptId: string;
  /** The label (preferred or alternative) that matched. */
  label: string;
  /** Character offsets of the match in the text (end exclusive). */
  start: number;
  end: number;
}

interface Token {
  key: string;
  start: number;
  end: number;
}

const WORD = /[A-Za-z0-9][A-Za-z0-9&'’-]*/g;

/** A word as matching compares it: lower case, singular, without a possessive. */
function key(word: string): string {
  const bare = word.replace(/['’]s?$/, '');
  return singular(bare).toLowerCase();
}

function tokens(text: string): Token[] {
  return [...text.matchAll(WORD)].map((m) => ({ key: key(m[0]), start: m.index as number, end: (m.index as number) + m[0].length }));
}

/**
 * Finds concepts named in a text by their preferred or alternative labels: whole words, every word
 * compared in lower case and singular ("Gifts" finds "gift", "PHI" finds the concept whose altLabel
 * it is), the longest label first where labels overlap; matches do not overlap and come in text order.
 */
export class ConceptMatcher {
  /** First word's key → candidate labels (word keys), longest first. */
  private readonly byFirst = new Map<string, Array<{ keys: string[]; conceptId: string; label: string }>>();

  constructor(concepts: readonly Concept[]) {
    for (const c of concepts) {
      for (const label of [c.prefLabel, ...c.altLabels]) {
        const keys = tokens(label).map((t) => t.key);
        if (keys.length === 0) continue;
        const list = this.byFirst.get(keys[0] as string) ?? [];
        if (!list.some((e) => e.conceptId === c.id && e.keys.join(' ') === keys.join(' '))) list.push({ keys, conceptId: c.id, label });
        this.byFirst.set(keys[0] as string, list);
      }
    }
    for (const list of this.byFirst.values())
      list.sort((a, b) => b.keys.length - a.keys.length || a.conceptId.localeCompare(b.conceptId) || a.label.localeCompare(b.label));
  }

  find(text: string): ConceptMatch[] {
    const toks = tokens(text);
    const out: ConceptMatch[] = [];
    let i = 0;
    while (i < toks.length) {
      const candidates = this.byFirst.get((toks[i] as Token).key) ?? [];
      const hit = candidates.find((c) => c.keys.every((k, j) => toks[i + j]?.key === k));
      if (!hit) {
        i += 1;
        continue;
      }
      const last = toks[i + hit.keys.length - 1] as Token;
      out.push({ conceptId: hit.conceptId, label: hit.label, start: (toks[i] as Token).start, end: last.end });
      i += hit.keys.length;
    }
    return out;
  }
}
