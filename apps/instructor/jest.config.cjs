const preset = require('../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'instructor', rootDir: __dirname };
