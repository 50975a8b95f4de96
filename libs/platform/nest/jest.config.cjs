const preset = require('../../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'nest', rootDir: __dirname };
