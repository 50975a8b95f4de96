const preset = require('../../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'auditing', rootDir: __dirname };
