const preset = require('../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'ports', rootDir: __dirname };
