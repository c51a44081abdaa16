// Lint: type-aware basics plus the layering rule of docs/architecture.md —
// dependencies point inward: domain → engine → ports → adapters → surfaces.
import tseslint from 'typescript-eslint';

const layer = (files, forbidden, why) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', {
      patterns: forbidden.map((dir) => ({ group: [`**/${dir}/*`, `../${dir}/*`, `./${dir}/*`], message: why })),
    }],
  },
});

const adapters = ['store', 'workspace', 'agents', 'scm', 'notify'];
const surfaces = ['api', 'cli', 'app', 'web'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'web/**', 'bin/**', 'eslint.config.js'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  layer(['src/domain/**', 'src/config/**'], ['engine', 'fleet', 'lifecycle', 'ports', 'lib', ...adapters, ...surfaces],
    'domain is pure: it may import only domain and config'),
  layer(['src/lib/**'], ['engine', 'fleet', 'lifecycle', 'ports', ...adapters, ...surfaces],
    'lib holds generic helpers (step runner, mutex) usable everywhere; it may import only domain'),
  layer(['src/ports/**'], ['engine', 'fleet', 'lifecycle', ...adapters, ...surfaces],
    'ports may import only domain'),
  layer(['src/engine/**', 'src/fleet/**', 'src/lifecycle/**'], [...adapters, ...surfaces],
    'engine code talks to the world through ports, never adapters or surfaces'),
  layer(adapters.map((a) => `src/${a}/**`), ['engine', 'fleet', 'lifecycle', ...surfaces],
    'adapters implement ports; they must not reach into the engine or surfaces'),
);
