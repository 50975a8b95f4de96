import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { tokenF1 } from './metrics';

// The model runtime's checkpoint evaluations mirror tokenF1 in Python; both are checked against
// these vectors (apps/model-runtime/tests/test_checkpoint_eval.py), so the training curve and the
// release audit score answers the same way.
const Vectors = z.array(z.object({ candidate: z.string(), reference: z.string(), tokenF1: z.number() })).min(1);
const vectors = Vectors.parse(JSON.parse(readFileSync(join(__dirname, 'token-f1.vectors.json'), 'utf8')));

describe('tokenF1 shared vectors', () => {
  it.each(vectors)('$candidate | $reference → $tokenF1', ({ candidate, reference, tokenF1: expected }) => {
    expect(tokenF1(candidate, reference)).toBeCloseTo(expected, 12);
  });

  it('covers partial overlaps, accents, numbers and empty texts', () => {
    const values = vectors.map((v) => v.tokenF1);
    expect(values.some((v) => v > 0 && v < 1)).toBe(true);
    expect(values).toContain(0);
    expect(vectors.some((v) => v.candidate === '' && v.reference === '')).toBe(true);
  });
});
