const preset = require('../../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'ontology-domain', rootDir: __dirname };
