export * from './servers';
export * from './conformance';
