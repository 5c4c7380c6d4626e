import { defineConfig } from 'vite';

/**
 * The BFF serves the build under /backoffice/ (packages/bff-accounting/src/routes/backofficeRouter.ts);
 * `vite` (dev server) forwards the API to a BFF on localhost:8081.
 */
export default defineConfig({
  base: '/backoffice/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: { proxy: { '/v1': 'http://localhost:8081', '/backoffice/config.json': 'http://localhost:8081' } },
});
