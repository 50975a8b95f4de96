import type { AnswerJudge } from '@studio/auditing';
import type { ModelEndpoint } from '@studio/pipeline';
import { synthesisSettingsOf, teacherOf } from './align';
import { parseAlignArgs } from './cli/args';

const local = {
  llm: { chat: async () => ({ id: 'x', model: 'm', content: '', finishReason: null, usage: null }) },
} as unknown as ModelEndpoint;

describe('the teacher of the command line', () => {
  it('is off without --teacher', () => {
    const args = parseAlignArgs(['frame', 'p.md']);
    expect(teacherOf(args, async () => local)).toBeUndefined();
    expect(synthesisSettingsOf(args)).toBeNull();
  });

  it('is the locally served --model by default, graded by the judge when there is one', async () => {
    const args = parseAlignArgs(['frame', 'p.md', '--teacher', '--model', 'tiny', '--teacher-per-clause', '3']);
    const judge = { judge: async () => ({ score: 1, raw: 5, reason: null, error: null }) } satisfies AnswerJudge;
    const teacher = await (teacherOf(args, async () => local, judge) as () => Promise<unknown>)();
    expect(teacher).toEqual({ llm: local.llm, model: 'tiny', judge });
    expect(synthesisSettingsOf(args)).toEqual({ concurrency: 4, maxPerClause: 3, maxClauses: null, seed: 42 });
  });

  it('is the named endpoint and model with --teacher-url, never asking for the local server', async () => {
    const args = parseAlignArgs(['frame', 'p.md', '--teacher-url', 'http://10.0.0.5:8000/v1', '--teacher-model', 'granite']);
    const teacher = await (
      teacherOf(
        args,
        async () => {
          throw new Error('the local server is not the teacher');
        },
        undefined,
        { STUDIO_TEACHER_API_KEY: 'k' },
      ) as () => Promise<{ model: string; llm: unknown }>
    )();
    expect(teacher.model).toBe('granite');
    expect(teacher.llm).not.toBe(local.llm);
  });
});
