// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Folders of development-time code: tests, training, the devkit library, scripts, dashboards. */
const DEV_CODE = ['**/devkit/**', '**/training/**', '**/scripts/**', '**/test/**', '**/grafana/**'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'fixtures/', 'coverage/', 'service/web/build/', '.stryker-tmp/', 'reports/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // The service and its autoscaler ship alone in their image: they never import development-time code.
    files: ['service/src/**/*.ts', 'autoscaler/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: DEV_CODE, message: 'service/src ships alone: it imports nothing outside itself.' }] },
      ],
    },
  },
  {
    // Everything else reaches the service through its public entry only.
    files: ['devkit/**/*.ts', 'training/**/*.ts', 'scripts/**/*.ts', 'test/**/*.ts', 'grafana/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/service/src/**', '!**/service/src/index.ts'],
              message: 'import the service through service/src/index.ts, its public entry.',
            },
          ],
        },
      ],
    },
  },
);
