// The CLI's pure rules, table-tested: what `show` suggests next, how hints name the command, API
// wording turned into flags, init's agent choice and config, Ctrl-C messages, the schema verdict of
// `doctor`, which agents a task would run, and the lazy command map against the real tree.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { nextStep, type RunFacts } from '../../src/cli/next-step.js';
import { COMMAND_NAMES, decideSelf, localize, type InvocationFacts } from '../../src/cli/self.js';
import { inCliWords } from '../../src/cli/client.js';
import { chooseAgent, initConfigYaml } from '../../src/cli/init-config.js';
import { bindError, stopMessage } from '../../src/cli/commands/up.js';
import { judgeSchema } from '../../src/cli/commands/doctor.js';
import { COMMAND_MODULES, buildProgram, commandWord, programFor } from '../../src/cli/main.js';
import { agentUses } from '../../src/app/submit-guards.js';
import { parseConfig } from '../../src/config/project-config.js';
import { BUILTIN_PIPELINES } from '../../src/domain/pipeline/builtins.js';
import { parseScript, selectActions } from '../../src/agents/scripted/script.js';
import { isGantryError } from '../../src/domain/errors.js';
import type { Task } from '../../src/domain/task.js';

const task = (over: Partial<Task> = {}): Pick<Task, 'id' | 'stage' | 'blockedReason' | 'after'> => ({ id: 't-1', stage: 'building', blockedReason: null, after: [], ...over });
const parked = (kind: string, options: string[] = []): RunFacts => ({ state: 'parked', currentStep: 'plan', waiting: { kind, stepId: 'plan', question: 'Proceed?', options }, failure: null });

describe('nextStep (gantry show)', () => {
  const cases: Array<[string, ReturnType<typeof task>, RunFacts | null, string | null, string[]]> = [
    ['approval', task({ stage: 'blocked', blockedReason: 'awaiting_human' }), parked('approval'), 'your approval (step plan)', ['gantry approve t-1', 'gantry changes t-1 "what to change"', 'gantry reject t-1 "why"']],
    ['decision with options', task({ stage: 'blocked', blockedReason: 'awaiting_human' }), parked('decision', ['v1', 'use v2']), 'your decision (step plan): Proceed?', ['gantry answer t-1 v1', 'gantry answer t-1 "use v2"', 'gantry reject t-1 "why"']],
    ['needs input', task({ stage: 'blocked', blockedReason: 'awaiting_human' }), parked('needs_input'), 'your reply (step plan): Proceed?', ['gantry answer t-1 "your reply"', 'gantry reject t-1 "why"']],
    ['review cap', task({ stage: 'blocked', blockedReason: 'awaiting_human' }), parked('review_cap'), 'a decision at the review cap (step plan)', ['gantry review t-1 more-round', 'gantry review t-1 proceed', 'gantry review t-1 stop']],
    ['merge review', task({ stage: 'blocked', blockedReason: 'awaiting_human' }), parked('merge_review'), 'a merge review (step plan)', ['gantry diff t-1', 'gantry merge t-1', 'gantry hold t-1', 'gantry reject t-1 "why"']],
    ['failed', task({ stage: 'failed' }), { state: 'failed', currentStep: 'plan', waiting: null, failure: { kind: 'rejected', message: 'x', remedy: 'y' } }, null, ['gantry logs t-1', 'gantry retry t-1']],
    ['dependencies', task({ stage: 'blocked', blockedReason: 'dependencies', after: ['t-a', 't-b'] }), null, 'dependencies to ship: t-a, t-b', ['gantry show t-a', 'gantry show t-b']],
    ['queued', task({ stage: 'queued' }), null, 'a free factory', ['gantry wait t-1', 'gantry logs t-1 -f']],
    ['running', task(), { state: 'running', currentStep: 'implement', waiting: null, failure: null }, null, ['gantry logs t-1 -f', 'gantry wait t-1']],
    ['shipped', task({ stage: 'shipped' }), null, null, ['gantry diff t-1']],
    ['dead letter', task({ stage: 'dead_letter' }), null, null, ['gantry logs t-1', 'gantry requeue t-1']],
  ];
  for (const [name, t, run, waitsFor, commands] of cases) {
    it(name, () => assert.deepEqual(nextStep(t, run), { waitsFor, commands }));
  }
});

describe('decideSelf / localize: hints use the command this user has', () => {
  const base: InvocationFacts = { script: '/opt/gantry/bin/gantry.js', onPath: null, cwd: '/home/u/app' };
  const cases: Array<[string, Partial<InvocationFacts>, string]> = [
    ['gantry on PATH is this installation', { onPath: '/opt/gantry/bin/gantry.js' }, 'gantry'],
    ['another gantry on PATH', { onPath: '/usr/lib/other/gantry.js' }, 'node /opt/gantry/bin/gantry.js'],
    ['npx', { npmCommand: 'exec' }, 'npx gantry'],
    ['npm run gantry', { npmCommand: 'run-script', npmEvent: 'gantry' }, 'npm run gantry --'],
    ['npm test runs it (not the gantry script)', { npmCommand: 'run-script', npmEvent: 'test' }, 'node /opt/gantry/bin/gantry.js'],
    ['inside the clone', { cwd: '/opt/gantry' }, 'node bin/gantry.js'],
    ['override', { override: 'gx' }, 'gx'],
  ];
  for (const [name, over, want] of cases) it(name, () => assert.equal(decideSelf({ ...base, ...over }), want));

  it('rewrites suggested commands only', () => {
    const s = () => 'npx gantry';
    assert.equal(localize('run `gantry approve t-1` or gantry logs t-1 -f', s), 'run `npx gantry approve t-1` or npx gantry logs t-1 -f');
    assert.equal(localize('the gantry home, gantry.yaml and ~/.gantry/ stay', s), 'the gantry home, gantry.yaml and ~/.gantry/ stay');
    assert.equal(localize('gantry: no such task', s), 'gantry: no such task');
    assert.equal(localize('next: gantry add "x"', () => 'gantry'), 'next: gantry add "x"');
  });

  it('knows every top-level command', async () => {
    const program = await buildProgram();
    for (const c of program.commands) assert.ok((COMMAND_NAMES as readonly string[]).includes(c.name()), `${c.name()} is in COMMAND_NAMES`);
  });
});

describe('inCliWords', () => {
  const cases: Array<[string, string]> = [
    ['query.stage[0]: Invalid option: expected one of "queued"', '--stage: Invalid option: expected one of "queued"'],
    ['body.title: title must not be empty', 'the title: title must not be empty'],
    ['body.capabilities[2]: too long; body.idempotencyKey: too long', '--cap: too long; --key: too long'],
    ['body.maxAttempts: too big', '--max-attempts: too big'],
    ['task t-1 not found', 'task t-1 not found'],
  ];
  for (const [api, cli] of cases) it(api, () => assert.equal(inCliWords(api), cli));
});

describe('gantry init: the agent and the config it writes', () => {
  it('prefers Claude Code, then Codex, Gemini CLI, OpenCode, Aider; else scripted', () => {
    assert.deepEqual(chooseAgent([{ id: 'codex', ready: true }, { id: 'claude-code', ready: true }]), { agent: 'claude-code', found: ['claude-code', 'codex'] });
    assert.deepEqual(chooseAgent([{ id: 'claude-code', ready: false }, { id: 'opencode', ready: true }]), { agent: 'opencode', found: ['opencode'] });
    assert.deepEqual(chooseAgent([{ id: 'claude-code', ready: false }]), { agent: 'scripted', found: [] });
  });

  it('the scripted example parses and scripts every role the standard pipeline always plays', () => {
    const c = parseConfig(initConfigYaml({ agent: 'scripted', found: [] }));
    assert.equal(c.defaults.agent, 'scripted');
    const doc = parseScript(c.agents.scripted);
    for (const use of agentUses(BUILTIN_PIPELINES.standard!, undefined, c.defaults.agent).filter((u) => u.always)) {
      assert.ok(selectActions(doc, use.role, 1, false)?.length, `a script for ${use.role}`);
    }
  });

  it('a found agent becomes the default, and the file has no scripted example', () => {
    const text = initConfigYaml({ agent: 'codex', found: ['codex', 'gemini'] });
    const c = parseConfig(text);
    assert.equal(c.defaults.agent, 'codex');
    assert.deepEqual(c.agents, {});
    assert.match(text, /agent: codex\s+# found on PATH: codex · gemini/);
  });
});

describe('agentUses: which agent plays which role', () => {
  const standard = BUILTIN_PIPELINES.standard!;
  it('the project default, unless the task names one', () => {
    assert.deepEqual(agentUses(standard, undefined, 'codex').map((u) => [u.step, u.agent, u.role, u.always]), [
      ['plan', 'codex', 'planner', true], ['implement', 'codex', 'implementer', true], ['review', 'codex', 'reviewer', true], ['checks', 'codex', 'fixer', false], ['conflicts', 'codex', 'resolver', false],
    ]);
    assert.ok(agentUses(standard, 'gemini', 'codex').every((u) => u.agent === 'gemini'));
  });
  it("a step's own agent beats the default; disabled steps play no role", () => {
    const p = { name: 'p', steps: [{ id: 'a', kind: 'agent', agent: 'aider', role: 'writer' }, { id: 'b', kind: 'review', enabled: false }, { id: 'm', kind: 'merge' }] };
    assert.deepEqual(agentUses(p, undefined, 'codex'), [{ agent: 'aider', role: 'writer', step: 'a', always: true }]);
  });
});

describe('gantry up: messages', () => {
  it('Ctrl-C, then Ctrl-C again, then once more', () => {
    assert.equal(stopMessage(1, []), 'stopping…');
    assert.match(stopMessage(1, ['t-a', 't-b']), /^stopping: waiting for 2 running tasks \(t-a, t-b\) .* press Ctrl-C again to stop them now$/);
    assert.match(stopMessage(2, ['t-a']), /^stopping now: interrupting 1 running task \(t-a\); each checkpoints and resumes on the next `gantry up` — Ctrl-C once more exits at once$/);
    assert.match(stopMessage(3, ['t-a']), /^exiting at once/);
    assert.match(stopMessage(1, ['1', '2', '3', '4', '5', '6']), /\(1, 2, 3, 4, 5, …\)/);
  });
  it('socket errors become one line with a remedy', () => {
    const e = (code: string) => Object.assign(new Error(`listen ${code}`), { code });
    const inUse = bindError(e('EADDRINUSE'), 4700, '127.0.0.1');
    assert.ok(isGantryError(inUse) && /port 4700 on 127.0.0.1 is already in use/.test(inUse.message) && /--port 0/.test(inUse.hint ?? ''));
    assert.ok(isGantryError(bindError(e('EACCES'), 80, '0.0.0.0')));
    const other = e('EMFILE');
    assert.equal(bindError(other, 1, 'h'), other);
  });
});

describe('doctor: the schema verdict', () => {
  it('compares versions, not the number of migrations', () => {
    assert.deepEqual(judgeSchema('SQLite', [1, 2, 5, 6, 7], [1, 2, 5, 6, 7]), { name: 'store', status: 'ok', detail: 'SQLite reachable, schema v7' });
    assert.equal(judgeSchema('SQLite', [1, 2, 5], [1, 2, 5, 6, 7]).detail, 'SQLite reachable, schema v5 (migrates to v7 on start)');
    assert.equal(judgeSchema('SQLite', [1, 2, 5, 6, 7, 8], [1, 2, 5, 6, 7]).status, 'fail');
    assert.equal(judgeSchema('PostgreSQL', [], [1, 2]).detail, 'PostgreSQL reachable, schema v0 (migrates to v2 on start)');
  });
});

describe('lazy commands', () => {
  it('the command word skips options', () => {
    assert.equal(commandWord(['--json', 'ls']), 'ls');
    assert.equal(commandWord(['-h']), undefined);
  });

  it('each command lives in the module the map names, and every command and subcommand has help examples', async () => {
    const program = await buildProgram();
    const top = program.commands.map((c) => c.name());
    assert.deepEqual(top.filter((n) => !(n in COMMAND_MODULES)), ['completion'], 'only completion (needs the whole tree) is absent from the map');
    for (const name of Object.keys(COMMAND_MODULES)) {
      const only = await programFor([name, '--help']);
      assert.ok(only.commands.some((c) => c.name() === name), `${name} is registered by module ${COMMAND_MODULES[name]}`);
      assert.ok(only.commands.length < top.length, `${name} loads only its own module`);
    }
    const all: Command[] = [];
    const walk = (c: Command) => c.commands.forEach((s) => (all.push(s), walk(s)));
    walk(program);
    for (const c of all) {
      let text = '';
      c.configureOutput({ writeOut: (s) => void (text += s), writeErr: (s) => void (text += s) });
      c.outputHelp();
      const path = c.parent && c.parent !== program ? `${c.parent.name()} ${c.name()}` : c.name();
      assert.match(text, /\nExamples:\n {2}\$ .*gantry /, `gantry ${path} --help shows examples`);
    }
  });
});
