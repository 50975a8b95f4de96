import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { SeedImportError } from './errors';
import { Clause, DocumentTree, Example } from './model';
import { ImportSeedsOptions, SeedLine, seedExample } from './seeds';

/**
 * InstructLab taxonomy `qna.yaml` files as seeds.
 *
 * Two formats are read, as the taxonomy writes them:
 * - knowledge (`version: 3`): `created_by`, `domain`, `document_outline`, `document` (repo, commit,
 *   patterns) and `seed_examples`, each a `context` (a passage of the knowledge document) with its
 *   `questions_and_answers` (`question`, `answer`);
 * - compositional skills (`version: 2`): `created_by`, `task_description` and `seed_examples`, each a
 *   `question` and an `answer` with an optional `context`.
 *
 * Only what the seeds need is enforced (version, created_by, non-empty questions and answers, a
 * context on every knowledge seed example); the taxonomy's counts (five contexts, three pairs each)
 * and its document fields are not, so a local file that is not bound for the upstream taxonomy
 * imports too.
 */

const NonEmpty = z.string().trim().min(1, 'must not be empty');

const QuestionAndAnswer = z.object({ question: NonEmpty, answer: NonEmpty }).passthrough();

export const InstructLabKnowledge = z
  .object({
    version: z.literal(3),
    created_by: NonEmpty,
    domain: z.string().optional(),
    document_outline: z.string().optional(),
    document: z
      .object({ repo: z.string(), commit: z.string().optional(), patterns: z.array(z.string()).optional() })
      .passthrough()
      .optional(),
    seed_examples: z
      .array(
        z
          .object({
            context: NonEmpty,
            questions_and_answers: z.array(QuestionAndAnswer).min(1, 'needs at least one question and answer'),
          })
          .passthrough(),
      )
      .min(1, 'needs at least one seed example'),
  })
  .passthrough();
export type InstructLabKnowledge = z.infer<typeof InstructLabKnowledge>;

export const InstructLabSkill = z
  .object({
    version: z.literal(2),
    created_by: NonEmpty,
    task_description: z.string().optional(),
    seed_examples: z
      .array(z.object({ question: NonEmpty, answer: NonEmpty, context: z.string().optional() }).passthrough())
      .min(1, 'needs at least one seed example'),
  })
  .passthrough();
export type InstructLabSkill = z.infer<typeof InstructLabSkill>;

export type InstructLabKind = 'knowledge' | 'compositional-skill';

/** One question and answer of a qna.yaml, where it is in the file. */
export interface QnaPair {
  /** `<seed example>[-<pair>]`, 1-based: "2-3" (knowledge), "4" (skill). */
  id: string;
  /** Path in the file: "seed_examples.1.questions_and_answers.2". */
  path: string;
  /** Line of the pair in the file (1-based). */
  line: number;
  /** The question as the seed asks it: a skill's context is prepended, as InstructLab does. */
  question: string;
  answer: string;
  /** The knowledge passage or the skill's context; null when none. */
  context: string | null;
}

export interface ParsedQna {
  kind: InstructLabKind;
  pairs: QnaPair[];
}

/**
 * True when `text` is a YAML mapping rather than JSON lines: its first line that is neither blank
 * nor a comment is a `key:` at the start of the line (JSON lines start with "{").
 */
export function looksLikeInstructLabQna(text: string): boolean {
  const first = text.split(/\r?\n/).find((l) => l.trim() !== '' && !l.trimStart().startsWith('#') && l.trim() !== '---');
  return first !== undefined && /^[A-Za-z_][\w-]*\s*:/.test(first);
}

function trimBlock(text: string): string {
  return text.replace(/\r\n/g, '\n').trim();
}

/**
 * Checks a qna.yaml and lists its question-and-answer pairs. Throws a `SeedImportError` naming the
 * line, the field ("seed_examples.0.questions_and_answers.1.answer") and the problem.
 */
export function parseInstructLabQna(text: string): ParsedQna {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number): number => lineCounter.linePos(offset).line;
  const syntax = doc.errors[0];
  if (syntax) throw new SeedImportError(lineOf(syntax.pos[0]), `qna.yaml is not valid YAML (${syntax.message.split('\n')[0]})`);

  const lineAt = (path: readonly PropertyKey[]): number => {
    for (let n = path.length; n >= 0; n -= 1) {
      const node = doc.getIn(path.slice(0, n) as (string | number)[], true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return lineOf(node.range[0]);
    }
    return 1;
  };
  const json: unknown = doc.toJS();
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new SeedImportError(1, 'qna.yaml must be a mapping with version, created_by and seed_examples');
  }
  const version = (json as { version?: unknown }).version;
  if (version !== 2 && version !== 3) {
    throw new SeedImportError(
      lineAt(['version']),
      `qna.yaml version: expected 3 (knowledge) or 2 (compositional skill), got ${version === undefined ? 'none' : JSON.stringify(version)}`,
    );
  }
  const schema = version === 3 ? InstructLabKnowledge : InstructLabSkill;
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    const field = issue.path.map(String).join('.') || '(root)';
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : '';
    throw new SeedImportError(lineAt(issue.path), `qna.yaml ${field}: ${issue.message}${more}`);
  }

  if (version === 3) {
    const file = parsed.data as InstructLabKnowledge;
    return {
      kind: 'knowledge',
      pairs: file.seed_examples.flatMap((example, i) =>
        example.questions_and_answers.map((qa, j) => ({
          id: `${i + 1}-${j + 1}`,
          path: `seed_examples.${i}.questions_and_answers.${j}`,
          line: lineAt(['seed_examples', i, 'questions_and_answers', j]),
          question: trimBlock(qa.question),
          answer: trimBlock(qa.answer),
          context: trimBlock(example.context),
        })),
      ),
    };
  }
  const file = parsed.data as InstructLabSkill;
  return {
    kind: 'compositional-skill',
    pairs: file.seed_examples.map((example, i) => {
      const context = example.context?.trim() ? trimBlock(example.context) : null;
      const question = trimBlock(example.question);
      return {
        id: `${i + 1}`,
        path: `seed_examples.${i}`,
        line: lineAt(['seed_examples', i]),
        question: context ? `${context}\n\n${question}` : question,
        answer: trimBlock(example.answer),
        context,
      };
    }),
  };
}

const STOPWORDS = new Set(
  (
    'the and for are but not you all any can had her was one our out has him his how its may new now see two who did get ' +
    'let put say she too use that with have this will your from they been were said each which their what when where there ' +
    'than then them these those would could should about into more other some such only also over after before under does ' +
    'done must shall being very just most much many every both either neither whether while because through during without ' +
    'within upon yes '
  ).split(/\s+/),
);

const SUFFIXES = ['ations', 'ation', 'ings', 'ing', 'ies', 'ied', 'ed', 'es', 'als', 'al', 'en', 'ly', 's', 'e'];

/**
 * A crude suffix stripper, enough for word overlap: "approval", "approved", "approve" → "approv";
 * "writing", "written" → "writ". Keeps at least four letters (three before a plural "s"); words of
 * digits are kept whole.
 */
export function stemWord(word: string): string {
  if (/^\p{N}+$/u.test(word)) return word;
  for (const suffix of SUFFIXES) {
    const keep = suffix === 's' ? 3 : 4;
    if (word.endsWith(suffix) && word.length - suffix.length >= keep && !(suffix === 's' && word.endsWith('ss'))) {
      const stem = word.slice(0, -suffix.length);
      return /([b-df-hj-np-tv-z])\1$/.test(stem) ? stem.slice(0, -1) : stem;
    }
  }
  return word;
}

/** Content words: lower case, letters and digits, stop words dropped, stemmed (`stemWord`). */
export function contentTokens(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => (/^\p{N}+$/u.test(w) ? w.length >= 2 : w.length >= 3) && !STOPWORDS.has(w))
    .map(stemWord);
}

export interface ClauseMatchOptions {
  /** Least share (IDF-weighted) of the text's content words a clause must contain; default 0.4. */
  minScore?: number;
  /** Least number of shared content words; default 2. */
  minShared?: number;
  /** Most clauses linked; default 2 (the best, and one more only when it scores nearly as well). */
  maxClauses?: number;
}

/**
 * A lexical index of a document's clauses: for a text, the clauses that contain the largest
 * IDF-weighted share of its content words. General by construction: no rule knows any document.
 * Given several views of one text (an answer, and the question with the answer), a clause is a
 * candidate when it passes the thresholds for any view, and candidates are ranked by the sum of
 * their scores over all views.
 */
export function clauseMatcher(tree: DocumentTree, options: ClauseMatchOptions = {}): (views: string | readonly string[]) => Clause[] {
  const minScore = options.minScore ?? 0.4;
  const minShared = options.minShared ?? 2;
  const maxClauses = options.maxClauses ?? 2;
  const clauseTokens = tree.clauses.map((c) => new Set(contentTokens([...c.headingPath.slice(-1), c.text].join(' '))));
  const df = new Map<string, number>();
  for (const set of clauseTokens) for (const t of set) df.set(t, (df.get(t) ?? 0) + 1);
  const n = tree.clauses.length;
  const idf = (t: string): number => Math.log(1 + n / (1 + (df.get(t) ?? 0)));
  const scoresOf = (text: string): { shared: number; score: number }[] => {
    const wanted = [...new Set(contentTokens(text))];
    const total = wanted.reduce((sum, t) => sum + idf(t), 0);
    return clauseTokens.map((set) => {
      const shared = wanted.filter((t) => set.has(t));
      return { shared: shared.length, score: total === 0 ? 0 : shared.reduce((sum, t) => sum + idf(t), 0) / total };
    });
  };
  return (views) => {
    const perView = (typeof views === 'string' ? [views] : views).map(scoresOf);
    const ranked = tree.clauses
      .map((_, index) => ({
        index,
        admitted: perView.some((v) => (v[index]?.shared ?? 0) >= minShared && (v[index]?.score ?? 0) >= minScore),
        score: perView.reduce((sum, v) => sum + (v[index]?.score ?? 0), 0),
      }))
      .filter((s) => s.admitted)
      .sort((a, b) => b.score - a.score || a.index - b.index);
    const best = ranked[0];
    if (!best) return [];
    return ranked
      .filter((s) => s.score >= best.score * 0.9)
      .slice(0, maxClauses)
      .map((s) => tree.clauses[s.index] as Clause);
  };
}

export type SeedDropReason = 'no-matching-clause';

export interface SeedImportReport {
  format: 'jsonl' | `instructlab-${InstructLabKind}`;
  /** Seed lines or question-and-answer pairs read. */
  read: number;
  kept: number;
  dropped: Partial<Record<SeedDropReason, number>>;
  /** Every dropped pair: where it is in the file and why. */
  droppedPairs: { path: string; line: number; question: string; reason: SeedDropReason }[];
}

export interface InstructLabImport {
  examples: Example[];
  report: SeedImportReport;
}

/**
 * Imports an InstructLab qna.yaml as Q&A seeds of `tree`, as-is: each pair becomes one `qa` seed
 * with the file's question and answer (a skill's context prepended to its question; a knowledge
 * passage is not part of the example: the example model has no field for it). The file carries no
 * clause references: each pair is linked to the clauses that best match its answer and its question
 * with its answer (`clauseMatcher`); the context is not used, so that a pair whose answer the
 * document does not support is not linked through its passage. A pair that matches no clause is dropped and reported. Malformed files
 * throw a `SeedImportError`.
 */
export function importInstructLabQna(text: string, tree: DocumentTree, options: ImportSeedsOptions = {}): InstructLabImport {
  const { kind, pairs } = parseInstructLabQna(text);
  const match = clauseMatcher(tree);
  const examples: Example[] = [];
  const report: SeedImportReport = { format: `instructlab-${kind}`, read: pairs.length, kept: 0, dropped: {}, droppedPairs: [] };
  for (const pair of pairs) {
    const rawQuestion = pair.context && kind === 'compositional-skill' ? pair.question.slice(pair.context.length).trim() : pair.question;
    const clauses = match([pair.answer, `${rawQuestion}\n${pair.answer}`]);
    if (clauses.length === 0) {
      report.dropped['no-matching-clause'] = (report.dropped['no-matching-clause'] ?? 0) + 1;
      report.droppedPairs.push({ path: pair.path, line: pair.line, question: rawQuestion, reason: 'no-matching-clause' });
      continue;
    }
    const seed: SeedLine = {
      id: `qna-${pair.id}`,
      kind: 'qa',
      question: pair.question,
      answer: pair.answer,
      clause_refs: clauses.map((c) => c.numbering),
    };
    examples.push(seedExample(seed, clauses, tree, options));
    report.kept += 1;
  }
  return { examples, report };
}
