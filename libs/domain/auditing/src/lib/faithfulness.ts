import { coverageOfTerms, extractKeyTermsOfAll, type KeyTerm } from './key-terms';
import { checkModality, type Stance } from './modality';

/**
 * Faithfulness of an answer to the clauses it should follow:
 *   faithfulness = max(0, coverage − penalty · [contradiction])
 * where coverage is the share of the key terms of all cited clauses (together, duplicates removed) that the
 * answer contains, and contradiction is true when the answer contradicts the modality of at least one cited
 * clause (see checkModality). The default penalty is 0.5.
 */
export const DEFAULT_CONTRADICTION_PENALTY = 0.5;

export interface ClauseText {
  id: string;
  text: string;
}

export interface ClauseContradiction {
  clauseId: string;
  clauseStances: Stance[];
  answerStances: Stance[];
  contradicted: Stance[];
}

export interface FaithfulnessScore {
  faithfulness: number;
  coverage: number;
  missingKeyTerms: KeyTerm[];
  contradiction: boolean;
  contradictions: ClauseContradiction[];
}

export function faithfulness(
  answer: string,
  clauses: readonly ClauseText[],
  penalty: number = DEFAULT_CONTRADICTION_PENALTY,
): FaithfulnessScore {
  if (!(penalty >= 0 && penalty <= 1)) throw new Error(`contradiction penalty must be within [0, 1], got ${penalty}`);
  const { coverage, missing } = coverageOfTerms(answer, extractKeyTermsOfAll(clauses.map((c) => c.text)));
  const contradictions: ClauseContradiction[] = [];
  for (const clause of clauses) {
    const check = checkModality(answer, clause.text);
    if (check.contradiction) {
      contradictions.push({
        clauseId: clause.id,
        clauseStances: check.clauseStances,
        answerStances: check.answerStances,
        contradicted: check.contradicted,
      });
    }
  }
  const contradiction = contradictions.length > 0;
  return {
    faithfulness: Math.max(0, coverage - (contradiction ? penalty : 0)),
    coverage,
    missingKeyTerms: missing,
    contradiction,
    contradictions,
  };
}
