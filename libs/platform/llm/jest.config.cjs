const preset = require('../../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'llm', rootDir: __dirname };
