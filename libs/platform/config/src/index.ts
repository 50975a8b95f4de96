export * from './env-vars';
export * from './load-config';
