const preset = require('../../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'kafka', rootDir: __dirname };
