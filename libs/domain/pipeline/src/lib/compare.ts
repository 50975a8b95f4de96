import { evaluateItems, type AnswerScore, type OutcomeBucket } from '@studio/auditing';
import { Id, type CoreAuditVariant as AuditVariant } from '@studio/contracts';
import { citeClause } from '@studio/framing';
import type { ChatMessage, TenantId } from '@studio/ports';
import { z } from 'zod';
import {
  answerVariant,
  evalClauseOf,
  readConversationalItems,
  variantMessages,
  variantModel,
  type AuditedDataset,
  type AuditSettings,
  type DatasetItem,
} from './audit';
import { retrieveClauses, type RetrievalPorts, type RetrievedClause } from './index-clauses';
import type { AdapterLoader, ArtifactStore } from './ports';
import type { AdapterRecord, ClauseRecord } from './records';

/** A prompt, or a held-out item of the run's dataset, to put to the base, aligned and aligned+RAG models. */
export const CompareRequest = z
  .object({
    runId: Id.describe('the completed training run whose adapter answers as the aligned model'),
    prompt: z.string().trim().min(1, 'must not be empty').max(4_000, 'must be at most 4000 characters').optional(),
    heldOutItemId: Id.optional().describe("a held-out item of the run's dataset version: its question, scored against its reference"),
  })
  .strict()
  .refine((r) => (r.prompt === undefined) !== (r.heldOutItemId === undefined), {
    message: 'give exactly one of prompt and heldOutItemId',
  });
export type CompareRequest = z.infer<typeof CompareRequest>;

/** A held-out item as the studio lists it to pick from. */
export interface HeldOutItem {
  id: string;
  kind: string;
  question: string;
  reference: string;
  clauseIds: string[];
}

/** The held-out split of a dataset version (the items its audit samples from), in file order. */
export async function heldOutItems(
  artifacts: Pick<ArtifactStore, 'read'>,
  dataset: Pick<AuditedDataset, 'heldOut'>,
): Promise<HeldOutItem[]> {
  return readConversationalItems(await artifacts.read(dataset.heldOut.uri), dataset.heldOut.uri).map((i: DatasetItem): HeldOutItem => ({
    id: i.id,
    kind: i.kind,
    question: i.question,
    reference: i.reference,
    clauseIds: i.clauseIds,
  }));
}

export class HeldOutItemNotFoundError extends Error {
  constructor(
    readonly itemId: string,
    readonly datasetVersionId: string,
  ) {
    super(`held-out item "${itemId}" is not in the held-out split of dataset version ${datasetVersionId}`);
    this.name = 'HeldOutItemNotFoundError';
  }
}

export interface CompareInput {
  tenant: TenantId;
  contextId: string;
  /** The dataset version the run trained on: its system prompt, and its held-out split for a held-out item. */
  dataset: AuditedDataset;
  /** The run's adapter, loaded into the model server by name. */
  adapter: Pick<AdapterRecord, 'id' | 'artifactDir'>;
  baseModel: string;
  question: { prompt: string } | { heldOutItemId: string };
  /** The clauses the dataset was generated from: a held-out answer is scored against those it cites. */
  clauses: readonly Pick<ClauseRecord, 'id' | 'text' | 'title' | 'numbering'>[];
  /** Correctness at or above which an answer counts as right (the context's thresholds.itemPass). */
  itemPass: number;
  settings: Pick<AuditSettings, 'ragTopK' | 'maxTokens'>;
}

export interface ComparedClause {
  clauseId: string;
  numbering: string;
  /** "§3.2.1" (empty for a clause without a number). */
  citation: string;
  text: string;
  score: number;
}

export interface CompareResult {
  contextId: string;
  runId: string;
  question: string;
  /** The held-out item asked, with its reference answer; null for a typed prompt. */
  heldOutItem: HeldOutItem | null;
  models: { base: string; adapter: string };
  /** The clauses retrieved for the question, given to the aligned+RAG variant. */
  retrieved: ComparedClause[];
  answers: Record<AuditVariant, string>;
  /**
   * For a held-out item: each variant's scores as the audit computes them (correctness, key-term
   * coverage, faithfulness, contradiction, refusal, right) and the item's outcome bucket. Null for a prompt.
   */
  scores: { variants: Record<AuditVariant, AnswerScore>; bucket: OutcomeBucket; itemPass: number } | null;
}

export interface ComparePorts extends RetrievalPorts {
  artifacts: Pick<ArtifactStore, 'read'>;
  adapters: AdapterLoader;
}

const VARIANTS: readonly AuditVariant[] = ['base', 'aligned', 'aligned_rag'];

/**
 * "Ask the unaligned, the aligned and the aligned+RAG model the same question": the audit's own
 * variants (same system prompt, retrieval, decoding and bounds: `answerVariant`), for one prompt
 * or one held-out item. A held-out item's answers are scored with the audit's `evaluateItems`
 * against its reference and cited clauses, which also gives its outcome bucket.
 */
export async function compareAnswers(ports: ComparePorts, input: CompareInput & { runId: string }): Promise<CompareResult> {
  let item: HeldOutItem | null = null;
  if ('heldOutItemId' in input.question) {
    const wanted = input.question.heldOutItemId;
    item = (await heldOutItems(ports.artifacts, input.dataset)).find((i) => i.id === wanted) ?? null;
    if (!item) throw new HeldOutItemNotFoundError(wanted, input.dataset.id);
  }
  const question = item ? item.question : (input.question as { prompt: string }).prompt;
  await ports.adapters.loadAdapter(input.adapter.id, input.adapter.artifactDir);
  const retrieved = await retrieveClauses(ports, { tenant: input.tenant, contextId: input.contextId }, question, input.settings.ragTopK);
  const answers = {} as Record<AuditVariant, string>;
  for (const variant of VARIANTS) {
    answers[variant] = await answerVariant(ports.llm, {
      variant,
      baseModel: input.baseModel,
      adapterName: input.adapter.id,
      systemPrompt: input.dataset.systemPrompt,
      question,
      retrieved,
      maxTokens: input.settings.maxTokens,
    });
  }
  let scores: CompareResult['scores'] = null;
  if (item) {
    const cited = new Set(item.clauseIds);
    const evaluation = await evaluateItems(
      [{ id: item.id, question: item.question, reference: item.reference, clauseIds: item.clauseIds }],
      { base: { [item.id]: answers.base }, aligned: { [item.id]: answers.aligned }, aligned_rag: { [item.id]: answers.aligned_rag } },
      { clauses: input.clauses.filter((c) => cited.has(c.id)).map(evalClauseOf), itemPass: input.itemPass },
    );
    const result = evaluation.items[0];
    if (!result) throw new Error(`scoring held-out item ${item.id} gave no result`);
    scores = { variants: result.variants as Record<AuditVariant, AnswerScore>, bucket: result.bucket, itemPass: evaluation.itemPass };
  }
  return {
    contextId: input.contextId,
    runId: input.runId,
    question,
    heldOutItem: item,
    models: { base: input.baseModel, adapter: input.adapter.id },
    retrieved: retrieved.map((c) => ({
      clauseId: c.clauseId,
      numbering: c.numbering,
      citation: c.numbering ? citeClause(c.numbering) : '',
      text: c.text,
      score: c.score,
    })),
    answers,
    scores,
  };
}

/** One side of a red-team trial: the base model, the aligned adapter, or the adapter with retrieved clauses. */
export type ConversationVariant = Extract<AuditVariant, 'base' | 'aligned' | 'aligned_rag'>;

export interface ConversationInput {
  tenant: TenantId;
  contextId: string;
  /** The dataset version the run trained on: its system prompt (the one the model was trained with). */
  dataset: Pick<AuditedDataset, 'systemPrompt'>;
  adapter: Pick<AdapterRecord, 'id' | 'artifactDir'>;
  baseModel: string;
  /** The user turns, sent one at a time: each variant sees its own earlier replies before the next turn. */
  turns: readonly string[];
  /** The variants to play, in order (e.g. base and aligned side by side). */
  variants: readonly ConversationVariant[];
  /**
   * Text added to the clauses retrieved for the aligned+RAG variant (an attack's instruction hidden
   * in a retrieved clause): it joins the retrieved clause of that id, or is added as one when retrieval missed it.
   */
  injection?: { clauseId: string; numbering: string; text: string } | null;
  settings: Pick<AuditSettings, 'ragTopK' | 'maxTokens'>;
}

export interface ConversationResult {
  /** The clauses retrieved for the first turn (given to aligned+RAG, with any injection). */
  retrieved: ComparedClause[];
  /** Each variant's reply to each turn, in turn order. */
  replies: Partial<Record<ConversationVariant, string[]>>;
}

/** The retrieved clauses with an injected text: appended to the clause it names, or that clause added first. */
export function withInjection(retrieved: readonly RetrievedClause[], injection: ConversationInput['injection']): RetrievedClause[] {
  if (!injection) return [...retrieved];
  const hit = retrieved.find((c) => c.clauseId === injection.clauseId);
  if (hit) return retrieved.map((c) => (c === hit ? { ...c, text: `${c.text}\n${injection.text}` } : c));
  return [{ clauseId: injection.clauseId, numbering: injection.numbering, text: injection.text, score: 1 }, ...retrieved];
}

/**
 * "Put this conversation to the base and the aligned model": the audit's variants (same model
 * names, system prompt, retrieval, greedy decoding and answer bound as `answerVariant`), played
 * turn by turn: each variant's reply to a turn is part of what it is asked at the next one.
 */
export async function replayConversation(ports: ComparePorts, input: ConversationInput): Promise<ConversationResult> {
  const first = input.turns[0];
  if (first === undefined) throw new Error('a conversation needs at least one user turn');
  await ports.adapters.loadAdapter(input.adapter.id, input.adapter.artifactDir);
  const retrieved = withInjection(
    await retrieveClauses(ports, { tenant: input.tenant, contextId: input.contextId }, first, input.settings.ragTopK),
    input.injection ?? null,
  );
  const replies: ConversationResult['replies'] = {};
  for (const variant of input.variants) {
    const messages: ChatMessage[] = variantMessages(variant, input.dataset.systemPrompt, first, retrieved);
    const said: string[] = [];
    for (const [index, turn] of input.turns.entries()) {
      if (index > 0) messages.push({ role: 'user', content: turn });
      const result = await ports.llm.chat({
        model: variantModel(variant, input.baseModel, input.adapter.id),
        messages: [...messages],
        temperature: 0,
        max_tokens: input.settings.maxTokens,
        seed: 0,
      });
      const reply = result.content.trim();
      said.push(reply);
      messages.push({ role: 'assistant', content: reply });
    }
    replies[variant] = said;
  }
  return {
    retrieved: retrieved.map((c) => ({
      clauseId: c.clauseId,
      numbering: c.numbering,
      citation: c.numbering ? citeClause(c.numbering) : '',
      text: c.text,
      score: c.score,
    })),
    replies,
  };
}
