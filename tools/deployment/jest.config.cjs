const preset = require('../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'deployment', rootDir: __dirname };
