const preset = require('../../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'preferences', rootDir: __dirname };
