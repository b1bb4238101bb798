import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/', 'runs/', 'native/build/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // The core must bundle for a browser unchanged: nothing Node-specific below these folders.
    files: [
      'src/tensor/**',
      'src/autograd/**',
      'src/ops/**',
      'src/nn/**',
      'src/optim/**',
      'src/metrics/**',
      'src/backend/js/**',
      'src/backend/backend.ts',
      'src/index.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'os', 'worker_threads', 'child_process'],
              message: 'core code must not import Node modules',
            },
          ],
        },
      ],
    },
  },
);
