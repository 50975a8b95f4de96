const preset = require('../../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'qdrant', rootDir: __dirname };
