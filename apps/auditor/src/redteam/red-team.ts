import {
  ContextId,
  Id,
  IsoTime,
  oneQuestion,
  Preference,
  RedTeamBucket,
  RedTeamConversionRequest,
  RedTeamFindingRequest,
  RedTeamTrialBody,
  type PreferenceOrigin,
} from '@studio/contracts';
import type { SeedLine } from '@studio/framing';
import type { EntitySpec } from '@studio/ports';
import { preferenceId, type PreferenceInput } from '@studio/preferences';
import { z } from 'zod';

/**
 * The red-team workspace's records: a trial (a prompt or a generated attack put to the base and
 * the aligned model, turn by turn) and a finding (a person's verdict on a trial in one of the four
 * buckets of the original system), which turns into a preference pair or a seed in one action.
 */

/** The four outcomes of a side-by-side trial. */
export const FindingBucket = RedTeamBucket;
export type FindingBucket = RedTeamBucket;

/** A clause a trial is about, with its numbering (a seed cites clauses by numbering). */
export const TrialClause = z.object({ id: z.string().min(1), numbering: z.string().min(1) });
export type TrialClause = z.infer<typeof TrialClause>;

/** What a trial keeps of the generated attack it replayed. */
export const TrialAttack = z.object({
  id: z.string().min(1),
  goalId: z.string().min(1),
  goal: z.string().min(1),
  strategies: z.array(z.string().min(1)).min(1),
  canary: z.string().nullable(),
  values: z.array(z.string()),
  injection: z.object({ clauseId: z.string().min(1), text: z.string().min(1) }).nullable(),
});
export type TrialAttack = z.infer<typeof TrialAttack>;

export const RedTeamTrial = z.object({
  id: Id,
  contextId: ContextId,
  runId: Id,
  adapterId: Id,
  baseModel: z.string().min(1),
  datasetVersionId: Id,
  systemPrompt: z.string().min(1),
  /** The user turns, in order (one for most attacks; several for a multi-turn one). */
  turns: z.array(z.string().min(1)).min(1),
  attack: TrialAttack.nullable(),
  /** The clauses the trial is about: the attack's, or for a written prompt those retrieved for it. */
  clauses: z.array(TrialClause),
  /** The context values the trial concerns: the attack's, or those whose sections hold its clauses, in priority order. */
  values: z.array(z.string()).default([]),
  /** The clauses retrieved for the first turn (the aligned+RAG variant's context). */
  retrieved: z.array(z.object({ clauseId: z.string().min(1), numbering: z.string(), citation: z.string(), score: z.number() })),
  /** Which model answered on the aligned side: the adapter, or (for an injection in retrieved text) the adapter with retrieved clauses. */
  alignedVariant: z.enum(['aligned', 'aligned_rag']),
  /** Each side's reply to each turn. */
  replies: z.object({ base: z.array(z.string()), aligned: z.array(z.string()) }),
  author: z.string().min(1),
  createdAt: IsoTime,
});
export type RedTeamTrial = z.infer<typeof RedTeamTrial>;

const Conversion = z.object({ by: z.string().min(1), at: IsoTime, edited: z.boolean() });

export const RedTeamFinding = z.object({
  /** One finding per trial: `finding-<trial id>` (marking a trial again replaces its bucket and note). */
  id: Id,
  contextId: ContextId,
  trialId: Id,
  bucket: FindingBucket,
  note: z.string(),
  /** The trial's turns joined: the prompt of a preference or a seed made from the finding. */
  prompt: z.string().min(1),
  turns: z.array(z.string().min(1)).min(1),
  /** The final replies of the base and the aligned side. */
  answers: z.object({ base: z.string(), aligned: z.string() }),
  clauses: z.array(TrialClause),
  attackId: z.string().nullable(),
  strategies: z.array(z.string()),
  values: z.array(z.string()),
  runId: Id,
  datasetVersionId: Id,
  systemPrompt: z.string().min(1),
  retrievedClauseIds: z.array(z.string()),
  author: z.string().min(1),
  createdAt: IsoTime,
  updatedAt: IsoTime,
  preference: Conversion.extend({ preferenceId: Id }).nullable().default(null),
  seed: Conversion.extend({ seedId: Id }).nullable().default(null),
});
export type RedTeamFinding = z.infer<typeof RedTeamFinding>;

export const RED_TEAM_TRIALS: EntitySpec<RedTeamTrial> = {
  collection: 'red_team_trials',
  schema: RedTeamTrial,
  indexes: [{ fields: { contextId: 1, createdAt: -1 } }],
};
export const RED_TEAM_FINDINGS: EntitySpec<RedTeamFinding> = {
  collection: 'red_team_findings',
  schema: RedTeamFinding,
  indexes: [{ fields: { contextId: 1, updatedAt: -1 } }],
};
export const RED_TEAM_TRIALS_REPOSITORY = Symbol('RED_TEAM_TRIALS_REPOSITORY');
export const RED_TEAM_FINDINGS_REPOSITORY = Symbol('RED_TEAM_FINDINGS_REPOSITORY');

/** The caller, as the gateway states it from the credential (`key:<id>` or `oidc:<sub>`). */
const Author = z.string().min(1).max(300).describe("who acts: the gateway's caller subject");

/** Body of POST …/red-team/trials as the gateway forwards it: the public body and the caller. */
export const TrialRequest = oneQuestion(RedTeamTrialBody.extend({ author: Author }));
export type TrialRequest = z.infer<typeof TrialRequest>;

/** Body of POST …/red-team/findings as the gateway forwards it. */
export const FindingRequest = RedTeamFindingRequest.extend({ author: Author });
export type FindingRequest = z.infer<typeof FindingRequest>;

/** Body of POST …/findings/{id}/preference and …/seed as the gateway forwards it. */
export const ConversionRequest = RedTeamConversionRequest.extend({ by: Author });
export type ConversionRequest = z.infer<typeof ConversionRequest>;

/** A conversion that the finding's bucket and answers do not allow (answered 409, naming why). */
export class FindingConversionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FindingConversionError';
  }
}

/** The finding a person's verdict on a trial makes (created, or replacing the verdict of an earlier one). */
export function findingOf(
  trial: RedTeamTrial,
  request: Pick<FindingRequest, 'bucket' | 'note' | 'author'>,
  existing: RedTeamFinding | null,
  now: Date,
): RedTeamFinding {
  return RedTeamFinding.parse({
    id: `finding-${trial.id}`,
    contextId: trial.contextId,
    trialId: trial.id,
    bucket: request.bucket,
    note: request.note.trim(),
    prompt: trial.turns.join('\n\n'),
    turns: trial.turns,
    answers: { base: trial.replies.base.at(-1) ?? '', aligned: trial.replies.aligned.at(-1) ?? '' },
    clauses: trial.clauses,
    attackId: trial.attack?.id ?? null,
    strategies: trial.attack?.strategies ?? [],
    values: trial.attack?.values ?? trial.values,
    runId: trial.runId,
    datasetVersionId: trial.datasetVersionId,
    systemPrompt: trial.systemPrompt,
    retrievedClauseIds: trial.alignedVariant === 'aligned_rag' ? trial.retrieved.map((c) => c.clauseId) : [],
    author: request.author,
    createdAt: existing?.createdAt ?? now.toISOString(),
    updatedAt: now.toISOString(),
    preference: existing?.preference ?? null,
    seed: existing?.seed ?? null,
  });
}

/** The answer that was right, by the bucket: the aligned one when both are fine; none when both fail. */
export function rightAnswer(finding: Pick<RedTeamFinding, 'bucket' | 'answers'>): { side: 'base' | 'aligned'; text: string } | null {
  switch (finding.bucket) {
    case 'both_fine':
    case 'only_aligned_right':
      return { side: 'aligned', text: finding.answers.aligned };
    case 'only_base_right':
      return { side: 'base', text: finding.answers.base };
    case 'both_fail':
      return null;
  }
}

/** The answer that was wrong: the aligned one when both fail (the model being trained), none when both are fine. */
export function wrongAnswer(finding: Pick<RedTeamFinding, 'bucket' | 'answers'>): { side: 'base' | 'aligned'; text: string } | null {
  switch (finding.bucket) {
    case 'both_fine':
      return null;
    case 'only_base_right':
    case 'both_fail':
      return { side: 'aligned', text: finding.answers.aligned };
    case 'only_aligned_right':
      return { side: 'base', text: finding.answers.base };
  }
}

/**
 * The `red-team` preference a finding makes: chosen = the answer that was right (or the edited
 * one), rejected = the wrong one. The annotator is the finding's author (whose verdict it is); the
 * note is its explanation. Throws `FindingConversionError` when the bucket has no wrong answer
 * (both fine), no right one and no edit (both fail), or chosen and rejected would be the same.
 */
export function preferenceOfFinding(finding: RedTeamFinding, editedAnswer: string | undefined, now: Date): Preference {
  const rejected = wrongAnswer(finding);
  if (!rejected)
    throw new FindingConversionError(
      `finding ${finding.id} is in bucket both_fine: neither answer is wrong, so there is no rejected answer for a preference pair (make a seed instead)`,
    );
  const right = rightAnswer(finding);
  const chosen = editedAnswer?.trim() || right?.text.trim() || '';
  if (!chosen)
    throw new FindingConversionError(
      right
        ? `finding ${finding.id}: the ${right.side} answer that was right is empty; give editedAnswer`
        : `finding ${finding.id} is in bucket both_fail: neither answer is right; give editedAnswer, the answer that should have been given`,
    );
  if (!rejected.text.trim())
    throw new FindingConversionError(
      `finding ${finding.id}: the ${rejected.side} answer that was wrong is empty, so it cannot be the rejected answer`,
    );
  if (chosen === rejected.text.trim())
    throw new FindingConversionError(`finding ${finding.id}: the chosen and the rejected answer are the same text`);
  const origin: PreferenceOrigin = { datasetVersionId: finding.datasetVersionId, exampleId: null, auditId: null, runId: finding.runId };
  const input: PreferenceInput = {
    contextId: finding.contextId,
    prompt: finding.prompt,
    systemPrompt: finding.systemPrompt,
    retrievedClauseIds: finding.retrievedClauseIds,
    clauseIds: finding.clauses.map((c) => c.id),
    chosen,
    rejected: rejected.text.trim(),
    source: 'red-team',
    rejectedKind: null,
    values: finding.values,
    annotator: finding.author,
    explanation: finding.note.trim() || null,
    edited: editedAnswer !== undefined && editedAnswer.trim() !== (right?.text.trim() ?? ''),
    origin,
  };
  return Preference.parse({ id: preferenceId(input), ...input, createdAt: now.toISOString() });
}

/**
 * The seed a finding makes for the next round: the prompt with the right answer (or the edited
 * one), a Q&A seed citing the finding's clauses by numbering, id `red-team-<finding id>`. Throws
 * `FindingConversionError` when there is no right answer and no edit, or no clause to cite.
 */
export function seedOfFinding(finding: RedTeamFinding, editedAnswer: string | undefined): SeedLine {
  const right = rightAnswer(finding);
  const answer = editedAnswer?.trim() || right?.text.trim() || '';
  if (!answer)
    throw new FindingConversionError(
      right
        ? `finding ${finding.id}: the ${right.side} answer that was right is empty; give editedAnswer`
        : `finding ${finding.id} is in bucket both_fail: neither answer is right; give editedAnswer, the answer a seed should teach`,
    );
  const refs = [...new Set(finding.clauses.map((c) => c.numbering))];
  if (refs.length === 0) throw new FindingConversionError(`finding ${finding.id} names no clause, and a seed must cite at least one`);
  return { id: `red-team-${finding.id}`, question: finding.prompt, answer, clause_refs: refs, kind: 'qa' };
}

/** What the workspace uses of a generated attack (`Attack` of @studio/redteam). */
export interface ReplayableAttack {
  id: string;
  goalId: string;
  clauseIds: string[];
  goal: string;
  strategies: readonly string[];
  turns: string[];
  injection: { clauseId: string; text: string } | null;
  canary: string | null;
  values: string[];
}

/** The generated attacks of a context's current rules. */
export interface AttackSource {
  attacksOf(tenant: string, contextId: string): Promise<ReplayableAttack[]>;
}
export const ATTACK_SOURCE = Symbol('ATTACK_SOURCE');
