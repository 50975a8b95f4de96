const preset = require('../../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'framing', rootDir: __dirname };
