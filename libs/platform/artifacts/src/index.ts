export * from './file-artifact-store';
