import { z } from 'zod';
import { SeedImportError } from './errors';
import { importInstructLabQna, looksLikeInstructLabQna, parseInstructLabQna, SeedImportReport } from './instructlab';
import { DocumentTree, Example } from './model';
import { importSeeds, ImportSeedsOptions, parseSeeds, SeedLine } from './seeds';

export type SeedsFormat = 'jsonl' | 'instructlab-qna';

/** The format of a seeds text, by content: an InstructLab qna.yaml (a YAML mapping) or JSON lines. */
export function seedsFormat(text: string): SeedsFormat {
  return looksLikeInstructLabQna(text) ? 'instructlab-qna' : 'jsonl';
}

/**
 * Checks seeds without a document, in either format (JSON lines or an InstructLab qna.yaml): what
 * the import checks except the clauses, which only the document can resolve or match. Throws a
 * `SeedImportError` naming the line and the problem.
 */
export function checkSeeds(text: string): SeedsFormat {
  const format = seedsFormat(text);
  if (format === 'instructlab-qna') parseInstructLabQna(text);
  else parseSeeds(text);
  return format;
}

/** Seed examples, JSON lines or an InstructLab qna.yaml, checked with `checkSeeds` (an issue names the line and its problem). */
export const SeedsJsonl = z.string().superRefine((text, ctx) => {
  try {
    checkSeeds(text);
  } catch (error) {
    if (!(error instanceof SeedImportError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.message });
  }
});

/**
 * Imports seeds in either format into examples of `tree`, with a report of the pairs kept and
 * dropped. JSON lines go through `importSeeds` (every line is kept or the import fails); a qna.yaml
 * through `importInstructLabQna` (a pair that matches no clause is dropped and counted).
 */
export function importSeedsWithReport(
  text: string,
  tree: DocumentTree,
  options: ImportSeedsOptions = {},
): { examples: Example[]; report: SeedImportReport } {
  if (seedsFormat(text) === 'instructlab-qna') return importInstructLabQna(text, tree, options);
  const examples = importSeeds(text, tree, options);
  return { examples, report: { format: 'jsonl', read: examples.length, kept: examples.length, dropped: {}, droppedPairs: [] } };
}

/** Why a seed cannot be added to a context's seeds: `problem` names it, the message says it in words. */
export class SeedAppendError extends Error {
  constructor(
    readonly problem: 'instructlab-qna' | 'id-taken',
    message: string,
  ) {
    super(message);
    this.name = 'SeedAppendError';
  }
}

/**
 * Adds one seed line to a context's seeds (JSON lines, or none yet): the seeds with the line at
 * the end, and whether it was added. The same seed again (same id, same content) adds nothing;
 * another seed under a taken id, or seeds kept as an InstructLab qna.yaml (a document of its own
 * that a JSON line cannot join), throw a `SeedAppendError`. The existing text is kept verbatim.
 */
export function appendSeed(seeds: string | null, seed: SeedLine): { seeds: string; added: boolean } {
  const line = SeedLine.parse(seed);
  const existing = seeds ?? '';
  if (existing.trim() !== '' && seedsFormat(existing) === 'instructlab-qna')
    throw new SeedAppendError(
      'instructlab-qna',
      `the context's seeds are an InstructLab qna.yaml; a seed line cannot be added to it: convert the seeds to JSON lines first`,
    );
  const taken = parseSeeds(existing).find((s) => s.id === line.id);
  if (taken) {
    if (JSON.stringify(SeedLine.parse(taken)) === JSON.stringify(line)) return { seeds: existing, added: false };
    throw new SeedAppendError('id-taken', `the context already has another seed with id "${line.id}"`);
  }
  const text = existing === '' || existing.endsWith('\n') ? existing : `${existing}\n`;
  const seedsOut = `${text}${JSON.stringify(line)}\n`;
  checkSeeds(seedsOut);
  return { seeds: seedsOut, added: true };
}
