const preset = require('../../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'artifacts', rootDir: __dirname };
