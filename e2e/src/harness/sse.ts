/** One server-sent event as a client reads it. */
export interface SseMessage {
  event: string;
  id: string;
  data: unknown;
}

export interface SseRead {
  status: number;
  messages: SseMessage[];
  /** Comment lines (`: heartbeat`) received. */
  comments: number;
  /** True when the server closed the stream (not the reader giving up). */
  closed: boolean;
  /** The body of a non-200 answer. */
  error: string;
}

/**
 * Opens an SSE stream with `fetch` (so it can send an Authorization header, as the web app does)
 * and reads it until the server closes it, `stop` says so, or `timeoutMs` passes. `onMessage`
 * runs for each message, in order, before the next is read.
 */
export async function readSse(
  url: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; onMessage?: (message: SseMessage) => Promise<void> | void; stop?: (message: SseMessage) => boolean },
): Promise<SseRead> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  const out: SseRead = { status: 0, messages: [], comments: 0, closed: false, error: '' };
  try {
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
    out.status = res.status;
    if (res.status !== 200 || !res.body) {
      out.error = await res.text();
      return out;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        out.closed = true;
        return out;
      }
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(':')) {
          out.comments += 1;
          continue;
        }
        const field = (name: string) =>
          block
            .split('\n')
            .find((line) => line.startsWith(`${name}: `))
            ?.slice(name.length + 2) ?? '';
        const message: SseMessage = { event: field('event'), id: field('id'), data: JSON.parse(field('data') || 'null') as unknown };
        out.messages.push(message);
        await options.onMessage?.(message);
        if (options.stop?.(message)) {
          controller.abort();
          return out;
        }
      }
    }
  } catch (error) {
    if (controller.signal.aborted) return out;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
