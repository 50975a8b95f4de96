import type { Concept } from '@studio/contracts';
import nlp from 'compromise';
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
  word: string;
  start: number;
  end: number;
}

const WORD = /[A-Za-z0-9][A-Za-z0-9&'’-]*/g;

function words(text: string): Token[] {
  return [...text.matchAll(WORD)].map((m) => ({
    word: m[0].replace(/['’]s?$/, '').toLowerCase(),
    start: m.index as number,
    end: (m.index as number) + m[0].length,
  }));
}

/** The plural of a noun, from compromise's inflector ("policy" → "policies", "person" → "people"). */
function plural(word: string): string | null {
  const doc = nlp(word);
  doc.tag('Noun');
  const out = (doc.nouns().toPlural().text() as string).trim().toLowerCase();
  return out && !out.includes(' ') && out !== word ? out : null;
}

/**
 * Finds concepts named in a text by their preferred or alternative labels: whole words, every word
 * compared in lower case and singular ("Gifts" finds "gift", "PHI" finds the concept whose altLabel
 * it is), the longest label first where labels overlap; matches do not overlap and come in text order.
 * Only the labels' words are inflected (singular and plural, by compromise), so matching a long
 * text costs a map lookup per word.
 */
export class ConceptMatcher {
  /** First word's key → candidate labels (word keys), longest first. */
  private readonly byFirst = new Map<string, Array<{ keys: string[]; conceptId: string; label: string }>>();
  /** A surface form of a label word (lower case; singular or plural) → the word's key (its singular). */
  private readonly forms = new Map<string, string>();

  constructor(concepts: readonly Concept[]) {
    for (const c of concepts) {
      for (const label of [c.prefLabel, ...c.altLabels]) {
        const keys = words(label).map((t) => this.learn(t.word));
        if (keys.length === 0) continue;
        const list = this.byFirst.get(keys[0] as string) ?? [];
        if (!list.some((e) => e.conceptId === c.id && e.keys.join(' ') === keys.join(' '))) list.push({ keys, conceptId: c.id, label });
        this.byFirst.set(keys[0] as string, list);
      }
    }
    for (const list of this.byFirst.values())
      list.sort((a, b) => b.keys.length - a.keys.length || a.conceptId.localeCompare(b.conceptId) || a.label.localeCompare(b.label));
  }

  /** A label word's key, with its forms recorded. */
  private learn(word: string): string {
    const known = this.forms.get(word);
    if (known) return known;
    const key = singular(word).toLowerCase();
    this.forms.set(word, key);
    this.forms.set(key, key);
    const many = /[a-z]/.test(key) ? plural(key) : null;
    if (many && !this.forms.has(many)) this.forms.set(many, key);
    return key;
  }

  find(text: string): ConceptMatch[] {
    const toks = words(text).map((t) => ({ ...t, key: this.forms.get(t.word) ?? t.word }));
    const out: ConceptMatch[] = [];
    let i = 0;
    while (i < toks.length) {
      const first = toks[i] as (typeof toks)[number];
      const hit = (this.byFirst.get(first.key) ?? []).find((c) => c.keys.every((k, j) => toks[i + j]?.key === k));
      if (!hit) {
        i += 1;
        continue;
      }
      const last = toks[i + hit.keys.length - 1] as (typeof toks)[number];
      out.push({ conceptId: hit.conceptId, label: hit.label, start: first.start, end: last.end });
      i += hit.keys.length;
    }
    return out;
  }
}
