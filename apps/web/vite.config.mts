import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The studio web app: `vite build` writes apps/web/dist, which the gateway serves at / (WEB_DIST).
 * `vite` (nx run web:serve) serves it with hot reload and proxies the API to a gateway
 * (STUDIO_GATEWAY_URL, default http://127.0.0.1:3000). Everything is bundled: no CDN, no web font.
 */
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2022' },
  server: {
    port: 5173,
    proxy: {
      '/v1': { target: process.env['STUDIO_GATEWAY_URL'] ?? 'http://127.0.0.1:3000', changeOrigin: false },
    },
  },
});
