const preset = require('../../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'inproc', rootDir: __dirname };
