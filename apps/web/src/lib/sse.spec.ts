import { SseParser } from './sse';

describe('SseParser', () => {
  it('dispatches an event at the blank line, joining data lines and keeping the event name and id', () => {
    const p = new SseParser();
    expect(p.push('event: progress\nid: 7\ndata: {"step":1,\ndata: "loss":2}\n')).toEqual([]);
    expect(p.push('\n')).toEqual([{ event: 'progress', data: '{"step":1,\n"loss":2}', id: '7' }]);
  });

  it('reads events split anywhere across chunks, CRLF included, and skips comments', () => {
    const p = new SseParser();
    const text = ': keep-alive\r\ndata: one\r\n\r\nevent: done\r\ndata: two\r\n\r\n';
    const events = [...text].flatMap((ch) => p.push(ch));
    expect(events).toEqual([
      { event: 'message', data: 'one', id: null },
      { event: 'done', data: 'two', id: null },
    ]);
  });

  it('ignores a blank line without data, takes retry, and strips one leading space only', () => {
    const p = new SseParser();
    expect(p.push('event: x\n\nretry: 1500\ndata:  two spaces\n\n')).toEqual([{ event: 'message', data: ' two spaces', id: null }]);
    expect(p.retryMs).toBe(1500);
  });
});
