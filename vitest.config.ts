import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // In-process tests run the TypeScript sources; spawned processes run the built dist/.
    alias: {
      '@accounting/data-pg': src('data-pg'),
      '@accounting/service-core-accounting': src('service-core-accounting'),
      '@accounting/bank-sandbox-sim': src('bank-sandbox-sim'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['./test/globalSetup.ts'],
    reporters: ['default', './test/summaryReporter.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
