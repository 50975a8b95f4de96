const preset = require('../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'ontology', rootDir: __dirname };
