// Integration tier: *.int-spec.ts against the real servers that deploy/local starts
// (KAFKA_BROKERS, MONGO_URL, REDIS_URL, QDRANT_URL). One worker: the servers are shared.
const preset = require('./jest.preset.cjs');

module.exports = {
  ...preset,
  rootDir: __dirname,
  displayName: 'integration',
  testMatch: ['<rootDir>/{apps,libs,e2e}/**/*.int-spec.ts'],
  maxWorkers: 1,
  globalSetup: '<rootDir>/tools/jest/int-global-setup.cjs',
  globalTeardown: '<rootDir>/tools/jest/int-global-teardown.cjs',
  testTimeout: 120000,
};
