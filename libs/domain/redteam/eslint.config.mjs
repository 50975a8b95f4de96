import baseConfig from '../../../eslint.config.mjs';

const drivers = ['@nestjs/*', 'kafkajs', 'mongoose', 'mongodb', 'bullmq', 'ioredis', '@qdrant/*', 'express'];

export default [
  ...baseConfig,
  {
    // The use cases' tests run them on the embedded profile's real in-process adapters.
    files: ['**/*.spec.ts', '**/*.spec-helper.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:domain', 'type:adapter', 'type:ports', 'type:contracts', 'type:util'],
              bannedExternalImports: drivers,
            },
          ],
        },
      ],
    },
  },
];
