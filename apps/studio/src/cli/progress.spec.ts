import { formatDuration, ProgressBoard, renderBar } from './progress';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, columns: 200, write: (t: string) => out.push(t) } };
}

describe('progress', () => {
  it('renders a bar with share, counts and note', () => {
    expect(renderBar('train', { done: 5, total: 20, note: 'loss 1.234' }, 10)).toBe('train    [###-------]  25% 5/20  loss 1.234');
    expect(renderBar('x', { done: 0, total: 0 }, 4)).toBe('x        [----]   0% 0/0');
    expect(renderBar('teacher', { done: 3, total: 12, etaMs: 95_000, note: '3 sent' }, 4)).toBe(
      'teacher  [#---]  25% 3/12  ETA 1 min 35 s  3 sent',
    );
    expect(renderBar('teacher', { done: 12, total: 12, etaMs: 0 }, 4)).toBe('teacher  [####] 100% 12/12');
  });

  it('redraws in place on a terminal and ends the line when the stage is done', () => {
    const { out, stream } = sink(true);
    const board = new ProgressBoard(stream);
    const p = board.stage('index');
    p({ done: 1, total: 2 });
    p({ done: 2, total: 2 });
    board.done('index', 1500);
    expect(out.filter((l) => l.startsWith('\r'))).toHaveLength(2);
    expect(out.at(-1)).toBe('index: done in 1.5 s\n');
    expect(out.at(-2)).toBe('\n');
  });

  it('prints plain lines, at most one per tenth and interval, when not a terminal', () => {
    const { out, stream } = sink(false);
    let now = 0;
    const board = new ProgressBoard(stream, () => now, 1000);
    const p = board.stage('audit');
    for (let i = 1; i <= 100; i += 1) {
      now += 100;
      p({ done: i, total: 100 });
    }
    board.done('audit', 10_000, 'verdict pass');
    expect(out.every((l) => !l.includes('\r'))).toBe(true);
    expect(out[0]).toBe('audit: started\n');
    const bars = out.filter((l) => l.startsWith('audit    ['));
    expect(bars.length).toBeGreaterThanOrEqual(9);
    expect(bars.length).toBeLessThanOrEqual(11);
    expect(bars.at(-1)).toContain('100/100');
    expect(out.at(-1)).toBe('audit: done in 10.0 s (verdict pass)\n');
  });

  it('formats durations', () => {
    expect(formatDuration(950)).toBe('0.9 s');
    expect(formatDuration(125_000)).toBe('2 min 05 s');
  });
});
