import { DocumentMediaType, Id, NormativeKind as NormativeKindSchema } from '@studio/contracts';
import { z } from 'zod';

/** obligation, prohibition, permission, exception, definition — the contract's enum. */
export const NormativeKind = NormativeKindSchema;
export type NormativeKind = z.infer<typeof NormativeKind>;

/** A document's format as uploaded: Markdown, plain text, HTML, PDF or DOCX (the contract's enum). */
export const MediaType = DocumentMediaType;
export type MediaType = z.infer<typeof MediaType>;

/** A document id is an `Id` without ':' (':' separates the parts of a clause id). */
export const DocumentId = Id.refine((v) => !v.includes(':'), { message: 'must not contain ":"' });

const LineNo = z.number().int().min(1);

export const Section = z.object({
  /** `<documentId>:<numbering>` */
  id: z.string().min(1),
  documentId: z.string().min(1),
  /** The heading's own number ("3.2") or, for an unnumbered heading, a slug under its numbered ancestor. */
  numbering: z.string().min(1),
  title: z.string(),
  level: z.number().int().min(1),
  parentId: z.string().nullable(),
  /** Heading titles from the outermost section down to this one. */
  headingPath: z.array(z.string()),
  lineStart: LineNo,
  lineEnd: LineNo,
});
export type Section = z.infer<typeof Section>;

export const ClauseKind = z.enum(['paragraph', 'list-item', 'qa', 'example', 'note']);
export type ClauseKind = z.infer<typeof ClauseKind>;

export const Clause = z.object({
  /** `<documentId>:<numbering>:<first 12 hex of sha256(normalised text)>` — stable across re-parsing. */
  id: z.string().min(1),
  documentId: z.string().min(1),
  /**
   * The clause's number as a reader writes it: "3.2.1", "3.1.4(a)", "164.502(a)(1)(ii)" (designators
   * nested under their paragraph, italic levels written plainly); unnumbered clauses get a path under
   * their section or the clause they belong to ("3.p1", "3.q1", "164.502(b).x1").
   */
  numbering: z.string().min(1),
  /**
   * How a reader of this document cites the clause: "§3.2.1", "§ 164.502(a)(1)(ii)" (the section sign
   * spaced as the document itself writes it); an unnumbered clause is cited by the numbered clause or
   * section it belongs to ("§3.3", "§ 164.502(b), Example 1"), or by its section title.
   */
  citation: z.string().min(1),
  /** A run-in paragraph heading ("Standard: Minimum necessary"), or an example's / note's label; null when none. */
  heading: z.string().nullable(),
  kind: ClauseKind,
  /** True when the document itself numbers this clause ("3.2.1", "(a)", "1."). */
  numbered: z.boolean(),
  sectionId: z.string().nullable(),
  /**
   * The clause this one is a sub-clause of: "(a)(1)" of "(a)", a lettered or bulleted item of its
   * numbered paragraph; for an example or note, the clause it illustrates.
   */
  parentId: z.string().nullable(),
  headingPath: z.array(z.string()),
  /** The clause text without its number and run-in heading, inline Markdown removed, whitespace collapsed. */
  text: z.string().min(1),
  /** For Q&A call-outs: the question and the answer. */
  question: z.string().nullable(),
  answer: z.string().nullable(),
  lineStart: LineNo,
  lineEnd: LineNo,
});
export type Clause = z.infer<typeof Clause>;

export const DocumentTree = z.object({
  documentId: z.string().min(1),
  mediaType: MediaType,
  title: z.string().nullable(),
  /** SHA-256 of the decoded, newline-normalised text. */
  sha256: z.string(),
  lineCount: z.number().int().nonnegative(),
  sections: z.array(Section),
  clauses: z.array(Clause),
});
export type DocumentTree = z.infer<typeof DocumentTree>;

export const ActionForm = z.enum(['verb', 'noun']);
export type ActionForm = z.infer<typeof ActionForm>;

export const NormativeStatement = z.object({
  /** `<clauseId>:s<n>` */
  id: z.string().min(1),
  clauseId: z.string().min(1),
  clauseNumbering: z.string().min(1),
  kind: NormativeKind,
  /** Who the statement addresses ("Employees", "A manager who …"); null for passive rules ("Cash gifts are prohibited"). */
  actor: z.string().nullable(),
  /**
   * The party the statement binds, permits or carves out for ("A covered entity"): the head of the
   * subject when the document addresses that party in other statements too, else the party of the
   * statement or lead-in above (for a passive rule, a definition's term, "This requirement …").
   */
  party: z.string().nullable(),
  /** The verb phrase ("accept gifts"), or for passive rules and definitions the noun phrase / definiens. */
  action: z.string().min(1),
  actionForm: ActionForm,
  /** "if …", "when …", "provided that …", value limits such as "up to $100"; null when unconditional. */
  condition: z.string().nullable(),
  /** "unless …", "except where …"; null when none. */
  exception: z.string().nullable(),
  /** The cue that decided the kind, lower-case: "must not", "is not required to", "means". */
  modality: z.string().min(1),
  /** The sentence (or coordinated part of it) the statement came from. */
  sentence: z.string().min(1),
});
export type NormativeStatement = z.infer<typeof NormativeStatement>;

export const ExampleKind = z.enum(['qa', 'scenario']);
export type ExampleKind = z.infer<typeof ExampleKind>;
export const ScenarioLabel = z.enum(['compliant', 'violating', 'ambiguous']);
export type ScenarioLabel = z.infer<typeof ScenarioLabel>;
/** Where an example came from: a seed, a template over a statement, the document's Q&A call-out, its own worked example or note, or a teacher model. */
export const ExampleSource = z.enum(['seed', 'template', 'callout', 'document-example', 'teacher']);
export type ExampleSource = z.infer<typeof ExampleSource>;

/**
 * A person's review of an example (the studio's review queue): approved as it stood, or edited
 * (its question or answer rewritten; it keeps the clauses it cites and names the example it
 * replaces). Absent on an example nobody has reviewed yet.
 */
export const ExampleReview = z.object({
  status: z.enum(['approved', 'edited']),
  /** Who reviewed it: the reviewer's subject (an API key's `key:<id>`, a token's `oidc:<sub>`). */
  by: z.string().min(1),
  /** For an edited example, the id of the example it replaces; null when approved. */
  originalId: z.string().min(1).nullable(),
});
export type ExampleReview = z.infer<typeof ExampleReview>;

export const Example = z
  .object({
    id: z.string().min(1),
    kind: ExampleKind,
    source: ExampleSource,
    question: z.string().min(1),
    /** Grounded reference answer, citing the clauses as "(§3.2.1)". */
    answer: z.string().min(1),
    /** A contradicting answer for preference data (e.g. one that permits a prohibited act); null when none. */
    rejected: z.string().nullable(),
    label: ScenarioLabel.nullable(),
    clauseIds: z.array(z.string().min(1)).min(1),
    /** Numbering paths of the cited clauses, in the same order as clauseIds. */
    clauseRefs: z.array(z.string().min(1)).min(1),
    statementKind: NormativeKind.nullable(),
    /** Names of the context values the example exercises. */
    values: z.array(z.string()),
    /** The review a person gave it, once reviewed (part of the content: a review makes another dataset version). */
    review: ExampleReview.optional(),
  })
  .refine((e) => e.clauseIds.length === e.clauseRefs.length, {
    message: 'clauseIds and clauseRefs must have the same length',
    path: ['clauseRefs'],
  })
  .refine((e) => (e.kind === 'scenario') === (e.label !== null), {
    message: 'scenarios need a label (compliant, violating, ambiguous) and Q&A examples must not have one',
    path: ['label'],
  });
export type Example = z.infer<typeof Example>;
