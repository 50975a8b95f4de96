// Flat ESLint config. Module boundaries are enforced by tags (see each project.json):
//   type:app        → may use everything below, never another app
//   type:framework  → NestJS glue: adapters, ports, contracts, util
//   type:adapter    → drivers behind ports: ports, contracts, util
//   type:domain     → pure logic: domain, ports, contracts, util — no framework, no drivers
//   type:ports      → contracts, util — no framework, no drivers
//   type:contracts  → util — no framework, no drivers
//   type:testing    → test helpers and the ports' conformance suites: ports, contracts, util — no drivers
//                     (adapters are handed to the suites by the specs beside them)
//   type:util       → util
//   scope:web       → the browser app (apps/web): talks to the server only over HTTP; it may import
//                     contracts for their types alone, never a framework, driver or Node built-in
import nx from '@nx/eslint-plugin';

const drivers = ['@nestjs/*', 'kafkajs', 'mongoose', 'mongodb', 'bullmq', 'ioredis', '@qdrant/*', 'express'];
/** What a browser bundle must never pull in (server code, drivers, Node's own modules). */
const serverOnly = [
  ...drivers,
  'node:*',
  'fs',
  'path',
  'crypto',
  'child_process',
  'http',
  'https',
  'net',
  'os',
  'zod',
  'jose',
  'oidc-provider',
  'openai',
];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    ignores: ['**/dist', '**/node_modules', '**/.nx', 'apps/model-runtime/**', 'tmp/**', '.tools/**', '.data/**'],
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: [
                'type:framework',
                'type:adapter',
                'type:domain',
                'type:ports',
                'type:contracts',
                'type:util',
                'type:testing',
              ],
            },
            {
              sourceTag: 'type:framework',
              onlyDependOnLibsWithTags: ['type:adapter', 'type:ports', 'type:contracts', 'type:util', 'type:testing'],
            },
            { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: ['type:ports', 'type:contracts', 'type:util', 'type:testing'] },
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:domain', 'type:ports', 'type:contracts', 'type:util', 'type:testing'],
              bannedExternalImports: drivers,
            },
            {
              sourceTag: 'type:ports',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:util'],
              bannedExternalImports: drivers,
            },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:util'], bannedExternalImports: drivers },
            {
              sourceTag: 'type:testing',
              onlyDependOnLibsWithTags: ['type:ports', 'type:contracts', 'type:util'],
              bannedExternalImports: drivers,
            },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'], bannedExternalImports: drivers },
            { sourceTag: 'scope:web', onlyDependOnLibsWithTags: ['type:contracts'], bannedExternalImports: serverOnly },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
];
