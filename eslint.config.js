// The code lint (`npm run lint`, run by `make test`; the import rules are in .dependency-cruiser.cjs).
// typescript-eslint's recommended rules, plus the type-aware rules about promises: a promise nobody awaits is an
// error nobody sees (an unawaited write, a rejection that kills an instance), and an async function passed where
// a callback's return value is ignored (an event handler, an Express 4-style handler) loses its errors.
// A rule is disabled on one line only, with the reason beside it.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.compiled/', 'results/', 'data/', '**/*.js', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // A variable declared before the closures that read it and assigned once later is not a constant.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
);
