import baseConfig from '../../eslint.config.mjs';

// The browser app: besides the module boundaries (scope:web in the root config), it may take only
// TYPES from the workspace's libraries (a value import would bundle server code), and nothing of Node.
export default [
  ...baseConfig,
  {
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@studio/*'],
              allowTypeImports: true,
              message: 'the web app talks to the server over HTTP only: import types (import type) from the libraries, never values',
            },
            { group: ['node:*'], message: 'the web app runs in the browser: no Node built-ins' },
            { group: ['../../*/src/*', '../../../*', '**/apps/*', '**/libs/*'], message: 'no relative imports out of apps/web' },
          ],
        },
      ],
    },
  },
];
