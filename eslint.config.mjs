// ESLint (flat config): `pnpm lint`, part of `pnpm test`. typescript-eslint's recommended rules on
// every TypeScript file, ESLint's on every script, and the habits of STYLE.md that a linter can
// see: no `any`, no `@ts-nocheck`, no console output from service code.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const unusedVars = ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }];

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', 'bench/results/**', 'artifacts/**', '.data/**', 'coverage/**'],
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
    rules: { 'no-unused-vars': unusedVars },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': unusedVars,
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': ['error', { 'ts-expect-error': 'allow-with-description' }],
    },
  },
  {
    // Service code logs through pino; console output is for command-line entry points only.
    files: ['packages/*/src/**/*.{ts,tsx}'],
    ignores: ['packages/*/src/**/cli.ts', 'packages/backoffice-web/**'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['packages/backoffice-web/src/**/*.{ts,tsx}', 'packages/hud-client/src/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
