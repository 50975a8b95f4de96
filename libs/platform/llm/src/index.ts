export * from './openai-compatible-client';
