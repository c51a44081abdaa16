// The demo's sample repository: a tiny Node project whose check is `node --test`, and a gantry.yaml
// whose scripted agent plays every role (no model, no API key). Each demo task has its own roles,
// so one project config scripts four different stories.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';

const greet = (line: string): string => `// The greeting the CLI prints.\nexport function greet(name) {\n  return ${line};\n}\n`;
const greetTest = (expected: string): string =>
  `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { greet } from '../src/greet.js';\n\ntest('greets by name', () => {\n  assert.equal(greet('Ada'), '${expected}');\n});\n`;
const shout = (body: string): string => `// Loud text for banners.\nexport function shout(text) {\n  return ${body};\n}\n`;
const SHOUT_TEST = `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { shout } from '../src/shout.js';\n\ntest('shouts', () => {\n  assert.equal(shout('ship it'), 'SHIP IT!');\n});\n`;
const README = (hello: string): string => `# greeter\n\nA tiny sample project for \`gantry demo\`.\n\n    import { greet } from './src/greet.js';\n    greet('Ada'); // '${hello}, Ada'\n\nRun the tests with \`npm test\`.\n`;

export const SAMPLE_FILES: Readonly<Record<string, string>> = {
  'package.json': `${JSON.stringify({ name: 'greeter', version: '1.0.0', private: true, type: 'module', scripts: { test: 'node --test' } }, null, 2)}\n`,
  'src/greet.js': greet('`Hello, ${name}`'),
  'test/greet.test.js': greetTest('Hello, Ada'),
  'README.md': README('Hello'),
  '.gitignore': 'node_modules/\n',
};

/** What the default branch holds once every demo task has shipped (the test checks these). */
export const SHIPPED_FILES: Readonly<Record<string, string>> = {
  'src/greet.js': greet('`Bonjour, ${name}!`'),
  'test/greet.test.js': greetTest('Bonjour, Ada!'),
  'src/shout.js': shout('`${text.toUpperCase()}!`'),
  'test/shout.test.js': SHOUT_TEST,
  'CHANGELOG.md': '# Changelog\n\n## 1.1.0\n\n- Greet in French, with enthusiasm.\n- Add shout().\n',
};

const write = (path: string, content: string) => ({ write: { path, content } });

/** The sample's gantry.yaml as data (stringified below, so quoting can never go wrong). */
export function sampleConfig(): Record<string, unknown> {
  return {
    version: 1,
    project: { name: 'greeter', defaultBranch: 'main' },
    defaults: { pipeline: 'standard', agent: 'scripted', maxAttempts: 3 },
    checks: [{ name: 'test', run: 'node --test', timeout: 120 }],
    // The built-in `standard` pipeline runs the French task; the others have their own small pipelines.
    pipelines: {
      excited: { steps: [{ id: 'implement', kind: 'agent', role: 'excited' }, { id: 'checks', kind: 'checks' }, { id: 'conflicts', kind: 'conflicts' }, { id: 'merge', kind: 'merge' }] },
      shout: { steps: [{ id: 'implement', kind: 'agent', role: 'shouter' }, { id: 'checks', kind: 'checks', maxFixes: 2, role: 'shout_fixer' }, { id: 'conflicts', kind: 'conflicts' }, { id: 'merge', kind: 'merge' }] },
      changelog: { steps: [{ id: 'implement', kind: 'agent', role: 'scribe' }, { id: 'checks', kind: 'checks' }, { id: 'conflicts', kind: 'conflicts' }, { id: 'merge', kind: 'merge' }] },
    },
    agents: {
      scripted: {
        roles: {
          // Task "Greet in French" (standard: plan → approval → implement → review ×2 → checks → conflicts → merge)
          planner: [{ say: "Plan: change greet() to say 'Bonjour', update its test, and document it in the README." }],
          implementer: {
            attempts: [
              [write('src/greet.js', greet('`Bonjour, ${name}`')), write('test/greet.test.js', greetTest('Bonjour, Ada')), { commit: 'feat: greet in French' }, { say: 'greet() now says Bonjour.' }],
              [write('README.md', README('Bonjour')), { commit: 'docs: the README shows the French greeting' }, { say: 'Documented the French greeting.' }],
            ],
          },
          reviewer: {
            attempts: [
              [{ review: { score: 5, summary: 'The code is right but the README still shows the English greeting.', findings: [{ severity: 'major', message: 'README.md still documents Hello', file: 'README.md' }] } }],
              [{ review: { score: 9, summary: 'Looks good.', findings: [] } }],
            ],
          },
          // After "Make the greeting enthusiastic" merged, both changed the same line: keep both intents.
          resolver: [
            { merge: { ref: 'main', strategy: 'ours' } },
            write('src/greet.js', SHIPPED_FILES['src/greet.js']!),
            write('test/greet.test.js', SHIPPED_FILES['test/greet.test.js']!),
            { commit: 'merge main: French and enthusiastic' },
            { say: 'Resolved the conflict: Bonjour, with an exclamation mark.' },
          ],
          // Task "Make the greeting enthusiastic"
          excited: [write('src/greet.js', greet('`Hello, ${name}!`')), write('test/greet.test.js', greetTest('Hello, Ada!')), { commit: 'feat: an enthusiastic greeting' }],
          // Task "Add shout()": the first attempt forgets the upper case, the checks catch it, the fixer repairs it.
          shouter: [write('src/shout.js', shout('`${text}!`')), write('test/shout.test.js', SHOUT_TEST), { commit: 'feat: shout()' }],
          shout_fixer: [{ patch: { path: 'src/shout.js', find: '`${text}!`', replace: '`${text.toUpperCase()}!`' } }, { run: 'node --test' }, { commit: 'fix: shout() upper-cases' }],
          // Task "Write the changelog" (after the other three)
          scribe: [write('CHANGELOG.md', SHIPPED_FILES['CHANGELOG.md']!), { commit: 'docs: changelog for 1.1.0' }],
        },
        default: [{ say: 'Nothing to do.' }],
      },
    },
  };
}

export const SAMPLE_YAML_HEADER = '# gantry.yaml of the demo sample: the scripted agent plays every role (see docs/demo.md).\n';

const GIT_ENV = { GIT_AUTHOR_NAME: 'Gantry demo', GIT_AUTHOR_EMAIL: 'demo@gantry.localhost', GIT_COMMITTER_NAME: 'Gantry demo', GIT_COMMITTER_EMAIL: 'demo@gantry.localhost' };

/** Creates the sample repository at `dir` (which must not exist yet) with one commit on main. */
export function createSampleRepo(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const files = { ...SAMPLE_FILES, 'gantry.yaml': SAMPLE_YAML_HEADER + stringify(sampleConfig(), { lineWidth: 0 }) };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...GIT_ENV } });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'greeter 1.0.0');
}

/** Commits made by the scripted agent need an identity even on a machine without git config. */
export function ensureGitIdentity(env: NodeJS.ProcessEnv = process.env): void {
  for (const [k, v] of Object.entries(GIT_ENV)) env[k] ??= v;
}
