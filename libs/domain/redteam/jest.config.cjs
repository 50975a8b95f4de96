const preset = require('../../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'redteam', rootDir: __dirname };
