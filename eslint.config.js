// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const processRule = {
  selector: "MemberExpression[object.name='process'][property.name=/^(env|exit|on|once)$/]",
  message:
    'Only agent/main.ts (signals, exit), agent/config/** (env) and the launcher bin/perimeter.js (heap flags) touch process.',
};

export default defineConfig(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', 'helm/**'] },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'separate-type-imports' },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      curly: 'error',
      'no-console': 'error',
      'no-restricted-syntax': ['error', processRule],
    },
  },
  {
    // Import cycles between value imports; the layering test (test/conformance/layering.test.ts)
    // also counts type-only imports and checks the rank of every folder.
    plugins: { 'import-x': importX },
    settings: {
      // Imports name their `.ts` files, so Node's resolution finds them; the plugin must also be
      // told to parse `.ts` dependencies, or it skips them and sees no cycle.
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver()],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['agent/main.ts', 'agent/config/**', 'bin/perimeter.js'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['connectors/**', 'secrets/**'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/agent/**', '!**/agent/plugin-api/**', '!**/agent/plugin-api'],
              message: 'Connectors and secret stores import only agent/plugin-api.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['agent/plugin-api/**'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../*', '!../plugin-api/*'],
              message: 'plugin-api imports only zod and node built-ins.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      'no-restricted-syntax': 'off',
      'no-console': 'off',
    },
  },
  { files: ['**/*.js'], extends: [tseslint.configs.disableTypeChecked] },
  prettier,
);
