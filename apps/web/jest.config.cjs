const preset = require('../../jest.preset.cjs');

// The web app's logic that runs without a browser (src/lib: API client, SSE parsing, PKCE, the clause tree, the loss curve).
module.exports = { ...preset, displayName: 'web', rootDir: __dirname };
