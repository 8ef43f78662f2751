import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'dist-bench/', 'dist-build/', 'src/config/generated/', 'coverage/', '.tap/', 'node_modules/', 'bench/results/', 'bench/peers/node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', Buffer: 'readonly', URL: 'readonly' }
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }]
    }
  },
  {
    // Commands print through output(), so runProgram()'s caller (a test) receives what they print.
    files: ['src/commands/**/*.ts'],
    rules: {
      'no-restricted-properties': ['error',
        { object: 'process', property: 'stdout', message: 'write through output() from src/commands/output.ts' },
        { object: 'process', property: 'stderr', message: 'write through output() from src/commands/output.ts' }]
    }
  }
)
