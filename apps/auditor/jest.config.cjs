const preset = require('../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'auditor', rootDir: __dirname };
