export * from './artifact-store';
export * from './repository';
