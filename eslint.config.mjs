// ESLint flat config. The workflow rules enforce the Temporal sandbox: no Node built-ins, no I/O clients and no value
// imports of activities/db/api/workers inside workflows/ (type imports are fine), no wall-clock or randomness there or
// in domain/ (pure rules that workflows run).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'http', 'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'timers', 'tls', 'url', 'util', 'v8', 'vm', 'worker_threads', 'zlib'];
const sandboxPatterns = [
  { group: ['node:*', ...NODE_BUILTINS, ...NODE_BUILTINS.map((m) => `${m}/*`)], message: 'Node built-ins do not run in the workflow sandbox.' },
  { group: ['**/activities', '**/activities/*', '**/activities/**', '**/db/**', '**/api/**', '**/workers/**', '**/observability/**', '**/config/**', '**/lib/**', '!@temporalio/interceptors-opentelemetry/lib/workflow' /* the interceptors' sandbox part, not our lib/ */], allowTypeImports: true, message: 'Workflows may only import types from activities, db, api and workers.' },
  { group: ['ioredis', 'sequelize', 'pg', 'express', 'pino', 'prom-client', 'jsonwebtoken', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'], allowTypeImports: true, message: 'No I/O clients in the workflow sandbox.' },
  // Workflow modules are initialised per workflow run: zod schemas would be rebuilt for every decision.
  { group: ['zod', '**/model/*', '!**/model/constants', '**/contract'], allowTypeImports: true, message: 'Workflow code takes only types from zod models and contracts; values only from domain/model/constants (no zod in the bundle).' },
];
/** An import of any of these top-level rooms, type or value. */
function layer(rooms, allowTypeImports = false) {
  return { regex: `^(\\.\\.?/)+(${rooms.join('|')})(/|$)`, allowTypeImports, message: `Layers: this room may not import from ${rooms.join(', ')}; put what two layers share in lib/.` };
}
const noClockOrRandom = [
  { object: 'Date', property: 'now', message: 'Time comes in as an argument (or from the workflow clock).' },
  { object: 'Math', property: 'random', message: 'Use uuid4() from @temporalio/workflow or an injected id factory.' },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.data/**', '.tools/**', 'coverage/**', '**/*.js', '**/*.mjs', 'tests/replay/histories/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      // zod 4's .partial() still fills each defaulted field with its default, so a "patch" overwrites what it was
      // laid over (issue 14: a policy snapshot naming no rules reset the tenant's policy to the defaults).
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.property.name='partial']", message: 'Use patchSchemaOf() from lib/patch-schema: .partial() keeps the defaults in zod 4.' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/**/contract.ts', 'workflows/**/client.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: sandboxPatterns }],
      'no-restricted-properties': ['error', ...noClockOrRandom],
    },
  },
  {
    // Contracts hold the zod schemas the API validates with; workflows import only their types.
    files: ['workflows/**/contract.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [sandboxPatterns[0], sandboxPatterns[2]] }],
    },
  },
  {
    // A flow's client (STYLE.md: `workflows/<flow>/client.ts` beside its contract) starts and updates the workflow from
    // Node: it may use the Temporal client and lib/, never activities, workers, the API or the database.
    files: ['workflows/**/client.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [layer(['activities', 'workers', 'api', 'db'], true)] }] },
  },
  {
    // The rules workflows run (everything in domain/ but the zod models and errors) follow the workflow's import rules.
    files: ['domain/**/*.ts'],
    ignores: ['domain/model/**', 'domain/errors/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [sandboxPatterns[0], sandboxPatterns[2], sandboxPatterns[3]] }],
      'no-restricted-properties': ['error', ...noClockOrRandom],
    },
  },
  {
    files: ['domain/model/**/*.ts', 'domain/errors/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [sandboxPatterns[0], sandboxPatterns[2]] }],
      'no-restricted-properties': ['error', ...noClockOrRandom],
    },
  },
  {
    // Layers: arrows run down only. The API and the database layer never reach into activities/ or workers/ (what
    // two layers share lives in lib/), the database layer never into api/, and lib/ into none of them.
    files: ['api/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [layer(['activities', 'workers']), { regex: '^(\\.\\.?/)+workflows/.+/workflow$', allowTypeImports: true, message: 'The API takes workflows by type only; starting one goes through its contract.' }] }] },
  },
  {
    files: ['db/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [layer(['activities', 'workers', 'api', 'workflows'])] }] },
  },
  {
    files: ['lib/**/*.ts', 'config/**/*.ts', 'observability/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [layer(['activities', 'workers', 'api', 'db', 'workflows'])] }] },
  },
);
