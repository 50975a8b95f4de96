const preset = require('../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'studio', rootDir: __dirname };
