const preset = require('../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'reward-model', rootDir: __dirname };
