const preset = require('../../../jest.preset.cjs');

module.exports = { ...preset, displayName: 'bullmq', rootDir: __dirname };
