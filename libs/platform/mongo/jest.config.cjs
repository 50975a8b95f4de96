const preset = require('../../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'mongo', rootDir: __dirname };
