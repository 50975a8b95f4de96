import { z } from 'zod';
import type { CallOptions, ChatMessage, LlmClient } from '@studio/ports';

/**
 * An optional LLM judge: it grades an answer from 1 to 5 against a rubric, given the question, the reference
 * answer and the text of the clauses the answer should follow. The reply must be a JSON object
 * {"score": <integer 1-5>, "reason": "<one sentence>"}; the score is normalised to [0, 1] as (score − 1) / 4.
 * Anything else — an LLM error, no JSON object, a score outside 1–5 — gives a null score with the reason in
 * `error`; the judge never throws.
 */

export interface JudgeInput {
  question: string;
  reference: string;
  answer: string;
  /** Text of the clauses the answer should follow. */
  clauses: readonly string[];
}

export interface JudgeResult {
  /** Normalised score in [0, 1], or null when the reply could not be used. */
  score: number | null;
  /** The 1–5 grade as given, or null. */
  raw: number | null;
  reason: string | null;
  error: string | null;
}

export interface AnswerJudge {
  judge(input: JudgeInput, options?: CallOptions): Promise<JudgeResult>;
}

export const JudgeReply = z.object({
  score: z.number().int().min(1).max(5),
  reason: z.string().optional(),
});
export type JudgeReply = z.infer<typeof JudgeReply>;

export const JUDGE_RUBRIC = `You grade an assistant's answer to a question about a set of rules (a company's policy, an institution's guidelines or a regulation).
Score from 1 to 5:
5 = correct and complete: agrees with the reference answer and follows the clauses exactly.
4 = correct, with a minor omission or imprecision that does not change what the reader should do.
3 = partly correct: the main point is right but a condition, limit or exception in the clauses is missing or wrong.
2 = mostly wrong or unhelpful: misses the main point, or refuses a legitimate question.
1 = wrong: contradicts the clauses (e.g. permits what they prohibit), or is unrelated to the question.
Judge only against the clauses and the reference answer, not against outside knowledge.
Reply with one JSON object and nothing else: {"score": <integer 1-5>, "reason": "<one sentence>"}`;

export function buildJudgeMessages(input: JudgeInput): ChatMessage[] {
  const clauses = input.clauses.length > 0 ? input.clauses.map((c, i) => `[${i + 1}] ${c}`).join('\n') : '(none)';
  return [
    { role: 'system', content: JUDGE_RUBRIC },
    {
      role: 'user',
      content: `Policy clauses:\n${clauses}\n\nQuestion:\n${input.question}\n\nReference answer:\n${input.reference}\n\nAnswer to grade:\n${input.answer}`,
    },
  ];
}

/** Every balanced {...} substring of the text, outermost first, skipping braces inside JSON strings. */
export function jsonObjectCandidates(text: string): string[] {
  const candidates: string[] = [];
  for (let start = text.indexOf('{'); start !== -1; start = text.indexOf('{', start + 1)) {
    let depth = 0;
    let inString = false;
    let escaped = false;
    for (let i = start; i < text.length; i += 1) {
      const ch = text[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === '\\') escaped = true;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === '"') inString = true;
      else if (ch === '{') depth += 1;
      else if (ch === '}') {
        depth -= 1;
        if (depth === 0) {
          candidates.push(text.slice(start, i + 1));
          break;
        }
      }
    }
  }
  return candidates;
}

export type ParsedJudgeReply = { ok: true; reply: JudgeReply } | { ok: false; error: string };

/**
 * Parses a judge reply: the first JSON object in the text (code fences and surrounding prose are tolerated)
 * that has an integer "score" from 1 to 5.
 */
export function parseJudgeReply(text: string): ParsedJudgeReply {
  const candidates = jsonObjectCandidates(text);
  if (candidates.length === 0) return { ok: false, error: `judge reply has no JSON object: ${excerpt(text)}` };
  let lastProblem = '';
  for (const candidate of candidates) {
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch {
      lastProblem = `invalid JSON ${excerpt(candidate)}`;
      continue;
    }
    const parsed = JudgeReply.safeParse(value);
    if (parsed.success) return { ok: true, reply: parsed.data };
    lastProblem = `${excerpt(candidate)}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`;
  }
  return { ok: false, error: `judge reply has no usable {"score": 1-5} object (${lastProblem})` };
}

function excerpt(text: string, max = 120): string {
  const flat = text.replace(/\s+/gu, ' ').trim();
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max)}…` : flat);
}

export function normaliseJudgeScore(raw: number): number {
  return (raw - 1) / 4;
}

export interface LlmJudgeOptions {
  model: string;
  /** Default 0, for repeatable grades. */
  temperature?: number;
  maxTokens?: number;
  seed?: number;
  timeoutMs?: number;
}

/** AnswerJudge backed by any OpenAI-compatible chat model through the LlmClient port. */
export class LlmJudge implements AnswerJudge {
  constructor(
    private readonly llm: LlmClient,
    private readonly options: LlmJudgeOptions,
  ) {
    if (options.model.trim().length === 0) throw new Error('LlmJudge needs a judge model name');
  }

  async judge(input: JudgeInput, callOptions: CallOptions = {}): Promise<JudgeResult> {
    let content: string;
    try {
      const result = await this.llm.chat(
        {
          model: this.options.model,
          messages: buildJudgeMessages(input),
          temperature: this.options.temperature ?? 0,
          max_tokens: this.options.maxTokens ?? 200,
          ...(this.options.seed === undefined ? {} : { seed: this.options.seed }),
        },
        { ...(this.options.timeoutMs === undefined ? {} : { timeoutMs: this.options.timeoutMs }), ...callOptions },
      );
      content = result.content;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { score: null, raw: null, reason: null, error: `judge model ${this.options.model} failed: ${message}` };
    }
    if (typeof content !== 'string') {
      return { score: null, raw: null, reason: null, error: `judge model ${this.options.model} returned no text` };
    }
    const parsed = parseJudgeReply(content);
    if (!parsed.ok) return { score: null, raw: null, reason: null, error: parsed.error };
    return {
      score: normaliseJudgeScore(parsed.reply.score),
      raw: parsed.reply.score,
      reason: parsed.reply.reason ?? null,
      error: null,
    };
  }
}
