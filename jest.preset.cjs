// Shared jest preset: every project's jest.config.cjs spreads this.
// TypeScript is compiled by SWC (decorator metadata on, as NestJS needs); type checking is
// the separate `npm run typecheck` step, so tests stay fast.
const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
  moduleNameMapper[`^${alias.replace('/', '\\/')}$`] = path.join(__dirname, target);
}

const ESM_ONLY = ['htmlparser2', 'domhandler', 'domelementtype', 'domutils', 'dom-serializer', 'entities', 'jose'];
const swc = (syntax) => [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax, decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': swc('typescript'),
    [`/node_modules/(?:${ESM_ONLY.join('|')})/.+\\.js$`]: swc('ecmascript'),
  },
  // Packages published only as ES modules (the HTML parser and its DOM helpers): compiled to
  // CommonJS for the tests as the TypeScript is; Node loads them natively at run time.
  transformIgnorePatterns: [`/node_modules/(?!(?:${ESM_ONLY.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  clearMocks: true,
};
