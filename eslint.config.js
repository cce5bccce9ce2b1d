// ESLint's flat config: the recommended JavaScript and typescript-eslint
// rules, plus the type-aware checks that catch real bugs in async server code.
// Formatting is Prettier's job alone (see .prettierrc.json).
import js from '@eslint/js'
import { defineConfig } from 'eslint/config'
import tseslint from 'typescript-eslint'

const node = { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' }
const browser = {
  document: 'readonly',
  window: 'readonly',
  navigator: 'readonly',
  HTMLElement: 'readonly',
  HTMLInputElement: 'readonly',
  HTMLFormElement: 'readonly',
  fetch: 'readonly',
  AbortController: 'readonly',
  PublicKeyCredential: 'readonly',
  DOMException: 'readonly',
}

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'test-results/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // An unawaited promise loses its error, or lets a request answer before its work is done.
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test collects the promises its suites and tests return.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      // Refusing control characters (in redirect URLs, say) is written with them on purpose.
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  { files: ['scripts/**/*.mjs', '*.js'], languageOptions: { globals: node } },
  { files: ['public/**/*.js'], languageOptions: { globals: browser } },
)
