import type { CallOptions, ChatChunk, ChatRequest, ChatResult, LlmClient } from '@studio/ports';
import { buildJudgeMessages, JUDGE_RUBRIC, LlmJudge, parseJudgeReply } from './judge';

/** Scripted LlmClient: answers chat() with the next reply (a string, or an Error to throw) and records requests. */
class FakeLlm implements LlmClient {
  readonly requests: { request: ChatRequest; options: CallOptions | undefined }[] = [];
  constructor(private readonly replies: (string | Error)[]) {}

  async chat(request: ChatRequest, options?: CallOptions): Promise<ChatResult> {
    this.requests.push({ request, options });
    const reply = this.replies.shift();
    if (reply === undefined) throw new Error('no scripted reply left');
    if (reply instanceof Error) throw reply;
    return { id: 'r1', model: request.model, content: reply, finishReason: 'stop', usage: null };
  }
  // eslint-disable-next-line require-yield
  async *chatStream(): AsyncIterable<ChatChunk> {
    throw new Error('not used');
  }
  async embed(): Promise<number[][]> {
    throw new Error('not used');
  }
  async listModels(): Promise<string[]> {
    return [];
  }
}

const input = {
  question: 'Can I accept a $150 gift from a supplier?',
  reference: 'No. Gifts worth more than $100 from suppliers must be declined.',
  answer: 'No, you must decline it.',
  clauses: ['Employees must not accept gifts worth more than $100 from suppliers.'],
};

describe('parseJudgeReply', () => {
  it.each([
    ['{"score": 4, "reason": "ok"}', 4],
    ['```json\n{"score": 5, "reason": "exact"}\n```', 5],
    ['Here is my grade: {"score": 2, "reason": "misses the limit {100}"} Thanks.', 2],
    ['{"score": 3.0}', 3],
    ['{"note": {"x": 1}} then {"score": 1, "reason": "contradicts"}', 1],
  ])('parses %j', (text, score) => {
    const parsed = parseJudgeReply(text);
    expect(parsed.ok && parsed.reply.score).toBe(score);
  });

  it.each([
    ['Score: 4', /no JSON object/],
    ['{"score": 6}', /score/],
    ['{"score": 0}', /score/],
    ['{"score": 3.5}', /score/],
    ['{"score": "4"}', /score/],
    ['{"score": 4', /no JSON object/],
    ["{'score': 4}", /invalid JSON/],
    ['{"reason": "no score"}', /score/],
  ])('rejects %j', (text, message) => {
    const parsed = parseJudgeReply(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(message);
  });
});

describe('buildJudgeMessages', () => {
  it('sends the rubric and all four inputs', () => {
    const [system, user] = buildJudgeMessages(input);
    expect(system).toEqual({ role: 'system', content: JUDGE_RUBRIC });
    expect(user?.role).toBe('user');
    for (const part of [input.question, input.reference, input.answer, `[1] ${input.clauses[0]}`]) {
      expect(user?.content).toContain(part);
    }
  });
});

describe('LlmJudge', () => {
  it('asks the judge model deterministically and normalises 1–5 to [0, 1]', async () => {
    const llm = new FakeLlm(['{"score": 4, "reason": "correct, omits the limit"}']);
    const judge = new LlmJudge(llm, { model: 'judge-7b', seed: 7, timeoutMs: 5000 });
    await expect(judge.judge(input)).resolves.toEqual({ score: 0.75, raw: 4, reason: 'correct, omits the limit', error: null });
    expect(llm.requests[0]?.request).toMatchObject({ model: 'judge-7b', temperature: 0, max_tokens: 200, seed: 7 });
    expect(llm.requests[0]?.options).toEqual({ timeoutMs: 5000 });
  });

  it('maps the ends of the scale to 0 and 1', async () => {
    const judge = new LlmJudge(new FakeLlm(['{"score": 1}', '{"score": 5}']), { model: 'j' });
    expect((await judge.judge(input)).score).toBe(0);
    expect((await judge.judge(input)).score).toBe(1);
  });

  it('gives a null score with the reason for an unusable reply', async () => {
    const result = await new LlmJudge(new FakeLlm(['I would give it a four.']), { model: 'j' }).judge(input);
    expect(result.score).toBeNull();
    expect(result.raw).toBeNull();
    expect(result.error).toMatch(/no JSON object/);
  });

  it('gives a null score, never an exception, when the model call fails', async () => {
    const result = await new LlmJudge(new FakeLlm([new Error('connect ECONNREFUSED')]), { model: 'j' }).judge(input);
    expect(result).toEqual({ score: null, raw: null, reason: null, error: 'judge model j failed: connect ECONNREFUSED' });
  });

  it('passes the caller abort signal through', async () => {
    const llm = new FakeLlm(['{"score": 3}']);
    const controller = new AbortController();
    await new LlmJudge(llm, { model: 'j' }).judge(input, { signal: controller.signal });
    expect(llm.requests[0]?.options?.signal).toBe(controller.signal);
  });

  it('refuses an empty model name', () => {
    expect(() => new LlmJudge(new FakeLlm([]), { model: ' ' })).toThrow(/judge model name/);
  });
});
