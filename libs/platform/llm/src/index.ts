export * from './openai-compatible-client';
export * from './lora-adapters';
export * from './reward-scorer';
