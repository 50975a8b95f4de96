export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  stop?: string[];
  seed?: number;
}

export interface ChatResult {
  id: string;
  model: string;
  content: string;
  finishReason: string | null;
  usage: { promptTokens: number; completionTokens: number } | null;
}

export interface ChatChunk {
  delta: string;
  finishReason: string | null;
}

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Any OpenAI-compatible server: vLLM, TGI, Ollama, hosted APIs, or `studio-runtime serve`. */
export interface LlmClient {
  chat(request: ChatRequest, options?: CallOptions): Promise<ChatResult>;
  chatStream(request: ChatRequest, options?: CallOptions): AsyncIterable<ChatChunk>;
  embed(model: string, input: string[], options?: CallOptions): Promise<number[][]>;
  listModels(options?: CallOptions): Promise<string[]>;
}
