import { Example } from './model';
import { HashFn, sha256Hex } from './sha256';
import { assertNoLeak, DatasetSplit } from './split';
import { canonicalJson } from './text';

export const DEFAULT_SYSTEM_PROMPT =
  'You answer questions about the rules of this context. Follow the rules, say when more information is needed, and cite the clauses you rely on as (§<number>).';

export interface BuildDatasetOptions {
  contextId: string;
  split: DatasetSplit;
  /** Hash over the canonical JSON of the version; default SHA-256 (lower-case hex). */
  hash?: HashFn;
  systemPrompt?: string;
  /** Every clause id of the context's documents, to report the share of clauses the examples cite. */
  clauseIds?: readonly string[];
}

export interface DatasetVersion {
  readonly id: string;
  readonly contextId: string;
  /** Hash of the canonical JSON of { heldOut, systemPrompt, train } with examples sorted by id. */
  readonly sha256: string;
  readonly systemPrompt: string;
  readonly train: readonly Example[];
  readonly heldOut: readonly Example[];
  /** Counts by "qa" and "scenario:<label>", over both splits. */
  readonly examplesByKind: Readonly<Record<string, number>>;
  /** Share of `clauseIds` cited by at least one example; null when no clause ids were given. */
  readonly clauseCoverage: number | null;
}

const byId = (a: Example, b: Example): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

const kindKey = (e: Example): string => (e.kind === 'scenario' ? `scenario:${e.label}` : e.kind);

/**
 * An immutable, content-addressed dataset version: the same examples and split always give the
 * same hash and id, whatever order they come in; any change to an example changes both.
 */
export function buildDatasetVersion(options: BuildDatasetOptions): DatasetVersion {
  const hash = options.hash ?? sha256Hex;
  const systemPrompt = options.systemPrompt ?? DEFAULT_SYSTEM_PROMPT;
  assertNoLeak(options.split);
  const train = options.split.train.map((e) => Example.parse(e)).sort(byId);
  const heldOut = options.split.heldOut.map((e) => Example.parse(e)).sort(byId);
  const ids = new Set<string>();
  for (const e of [...train, ...heldOut]) {
    if (ids.has(e.id)) throw new Error(`example id "${e.id}" appears twice in the dataset`);
    ids.add(e.id);
  }
  const digest = hash(canonicalJson({ heldOut, systemPrompt, train }));
  const examplesByKind: Record<string, number> = {};
  for (const e of [...train, ...heldOut]) examplesByKind[kindKey(e)] = (examplesByKind[kindKey(e)] ?? 0) + 1;
  let clauseCoverage: number | null = null;
  if (options.clauseIds && options.clauseIds.length > 0) {
    const cited = new Set([...train, ...heldOut].flatMap((e) => e.clauseIds));
    clauseCoverage = options.clauseIds.filter((id) => cited.has(id)).length / options.clauseIds.length;
  }
  return deepFreeze({
    id: `ds-${options.contextId}-${digest.slice(0, 12)}`,
    contextId: options.contextId,
    sha256: digest,
    systemPrompt,
    train,
    heldOut,
    examplesByKind,
    clauseCoverage,
  });
}

/** One Hugging Face conversational record per line: system, user and assistant messages. */
export function toConversationalJsonl(examples: readonly Example[], systemPrompt = DEFAULT_SYSTEM_PROMPT): string {
  return examples
    .map((e) =>
      JSON.stringify({
        id: e.id,
        messages: [
          { role: 'system', content: systemPrompt },
          { role: 'user', content: e.question },
          { role: 'assistant', content: e.answer },
        ],
        clause_ids: e.clauseIds,
        kind: e.kind,
        label: e.label,
      }),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * Preference records for DPO: the grounded answer is `chosen`, the contradicting one `rejected`.
 * Examples without a contradicting answer are left out.
 */
export function toPreferenceJsonl(examples: readonly Example[]): string {
  return examples
    .filter((e) => e.rejected !== null)
    .map((e) => `${JSON.stringify({ id: e.id, prompt: e.question, chosen: e.answer, rejected: e.rejected, values: e.values })}\n`)
    .join('');
}
