import type { RetrievedClause } from './model';

/** One side of a comparison: the answer and, for a held-out item, its scores. */
export interface CompareSide {
  variant: 'base' | 'aligned' | 'aligned_rag';
  answer: string;
  scores: Record<string, number | boolean | null>;
}

export interface CompareView {
  sides: CompareSide[];
  /** For a held-out item: the outcome bucket of base against aligned. */
  bucket: string | null;
  retrieved: RetrievedClause[];
  reference: string | null;
  question: string | null;
}

const VARIANT_KEYS: Record<CompareSide['variant'], string[]> = {
  base: ['base'],
  aligned: ['aligned'],
  aligned_rag: ['aligned_rag', 'alignedRag', 'aligned+rag', 'rag'],
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

function scoresOf(v: Obj): Record<string, number | boolean | null> {
  const source = isObj(v['scores']) ? v['scores'] : v;
  const out: Record<string, number | boolean | null> = {};
  for (const [k, value] of Object.entries(source)) if (typeof value === 'number' || typeof value === 'boolean') out[k] = value;
  return out;
}

/**
 * Reads POST /v1/contexts/{id}/compare's answer: the three variants (under `answers`, `variants`
 * or at the top; each a string or an object with `answer`/`text`/`content` and its scores), the
 * retrieved clauses with their scores, and the reference answer of a held-out item.
 */
export function readCompare(body: unknown): CompareView {
  const b = isObj(body) ? body : {};
  const scoreBox = isObj(b['scores']) ? (isObj(b['scores']['variants']) ? b['scores']['variants'] : b['scores']) : {};
  const scoresFor = (variant: string) => (isObj(scoreBox[variant]) ? scoresOf(scoreBox[variant] as Obj) : {});
  const containers = [b['answers'], b['variants'], b['results'], b].filter(isObj);
  const sides: CompareSide[] = [];
  for (const variant of ['base', 'aligned', 'aligned_rag'] as const) {
    let found: unknown;
    for (const c of containers) for (const key of VARIANT_KEYS[variant]) if (found === undefined && c[key] !== undefined) found = c[key];
    if (found === undefined) continue;
    if (typeof found === 'string') {
      sides.push({ variant, answer: found, scores: scoresFor(variant) });
    } else if (isObj(found)) {
      const answer = [found['answer'], found['text'], found['content'], found['output']].find((x) => typeof x === 'string') as
        string | undefined;
      sides.push({ variant, answer: answer ?? '', scores: { ...scoresOf(found), ...scoresFor(variant) } });
    }
  }
  const retrievedRaw = [b['retrieved'], b['retrievedClauses'], b['clauses'], b['context']].find(Array.isArray) as unknown[] | undefined;
  const item = isObj(b['heldOutItem']) ? b['heldOutItem'] : isObj(b['item']) ? b['item'] : {};
  const reference = [b['reference'], b['expected'], b['expectedAnswer'], item['reference']].find((x) => typeof x === 'string');
  const question = [b['question'], b['prompt'], item['question']].find((x) => typeof x === 'string');
  const bucket = isObj(b['scores']) && typeof b['scores']['bucket'] === 'string' ? b['scores']['bucket'] : null;
  return {
    sides,
    bucket,
    retrieved: (retrievedRaw ?? []).filter(isObj) as RetrievedClause[],
    reference: (reference as string | undefined) ?? null,
    question: (question as string | undefined) ?? null,
  };
}
