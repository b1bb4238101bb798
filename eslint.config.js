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
      'src/data/**',
      'src/train/**',
      'src/vision/transforms/**',
      'src/io/safetensors.ts',
      'src/io/state.ts',
      'src/backend/js/**',
      'src/backend/backend.ts',
      'src/backend/index.ts',
      'src/doctor.ts',
      'src/doctor-checks.ts',
      'src/index.ts',
    ],
    // Node-only parts of those folders, reached through the Node entry point.
    ignores: [
      'src/train/node.ts',
      'src/train/progress.ts',
      'src/train/callbacks/csv-logger.ts',
      'src/train/callbacks/model-checkpoint.ts',
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
