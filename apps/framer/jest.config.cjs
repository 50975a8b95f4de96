const preset = require('../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'framer', rootDir: __dirname };
