// The first hour, as a new user meets it: `gantry init` in a repository on a machine with no agent
// CLI, `gantry add`, the plan waiting for approval, `show`, `logs -f`, `approve`, `reject`,
// `rollback`, edits to gantry.yaml, `doctor` — each through the real CLI (child processes) against a
// real `gantry up` child running the pipeline with the scripted agent.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { GANTRY_BIN, GIT_IDENTITY, NO_AGENTS_PATH, gantry, type CliResult } from '../support/cli.js';
import { git, makeRepo } from '../support/git.js';
import { startDaemon, type Daemon } from '../web/daemon.js';


const oneLine = (r: CliResult): string => {
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line on stderr, got:\n${r.stderr}`);
  return r.stderr.trim();
};

/** `gantry logs <task> -f` in the background: its output so far, and its exit code when it ends. */
function follow(task: string, env: Record<string, string>): { out: () => string; err: () => string; exited: Promise<number | null>; child: ChildProcess } {
  const child = spawn(process.execPath, [GANTRY_BIN, 'logs', task, '-f'], { env: { ...process.env, GANTRY_URL: '', GANTRY_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  return { out: () => out, err: () => err, child, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
}

describe('the first hour', () => {
  let d: Daemon;
  let repo: string;
  let project: string;
  let env: Record<string, string>;
  const cleanup: string[] = [];

  before(async () => {
    repo = makeRepo({ 'README.md': '# my-app\n' });
    project = basename(repo);
    d = await startDaemon({ env: { PATH: NO_AGENTS_PATH, ...GIT_IDENTITY } });
    env = { GANTRY_HOME: d.home, PATH: NO_AGENTS_PATH };
  });
  after(async () => {
    await d?.stop();
    rmSync(repo, { recursive: true, force: true });
    for (const p of cleanup) rmSync(p, { recursive: true, force: true });
  });

  it('init with no agent CLI on PATH writes a scripted example that runs, and registers the project', async () => {
    const r = await gantry(['init'], { cwd: repo, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /agent\s+scripted \(no agent CLI found on PATH\)/);
    assert.match(r.stdout, new RegExp(`project ${project} \\(p-\\w+\\)`));
    const yaml = readFileSync(join(repo, 'gantry.yaml'), 'utf8');
    assert.match(yaml, /^ {2}agent: scripted/m);
    assert.match(yaml, /^ {6}planner:/m, 'a script for the planner');
    const doc = await gantry(['config', 'check', '--json'], { cwd: repo, env });
    assert.equal(doc.code, 0, doc.stderr);
    assert.equal((JSON.parse(doc.stdout) as { defaults: { agent: string } }).defaults.agent, 'scripted');
  });

  it('add outside a registered repository is refused with what to do, and submits nothing', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'gantry-nowhere-'));
    const other = makeRepo();
    cleanup.push(outside, other);
    const a = await gantry(['add', 'Fix it'], { cwd: outside, env });
    assert.equal(a.code, 2);
    assert.match(oneLine(a), new RegExp(`is not inside a project's repository — cd into the repository, or pass --project \\(one of ${project}\\)`));
    const b = await gantry(['add', 'Fix it'], { cwd: other, env });
    assert.equal(b.code, 2);
    assert.match(oneLine(b), new RegExp(`${other} is not a registered project — run \`gantry init\` there, or pass --project`));
    const ls = await gantry(['ls', '--json'], { env });
    assert.deepEqual((JSON.parse(ls.stdout) as { tasks: unknown[] }).tasks, []);
  });

  it('add refuses an agent that cannot run here, saying what to install or pass', async () => {
    const r = await gantry(['add', 'Fix it', '--agent', 'codex'], { cwd: repo, env });
    assert.equal(r.code, 2);
    assert.match(oneLine(r), /agent codex \(--agent\) cannot run on this machine: not found on PATH — npm install -g @openai\/codex.*or pass --agent with an installed one/);
    const ls = await gantry(['ls', '--json'], { env });
    assert.deepEqual((JSON.parse(ls.stdout) as { tasks: unknown[] }).tasks, []);
  });

  let shipped = '';
  it('a task waits for approval: show names the steps, the wait and the next command; logs -f ends with the task', async () => {
    const add = await gantry(['add', 'Try Gantry', '--body', 'Show me the pipeline.'], { cwd: repo, env });
    assert.equal(add.code, 0, add.stderr);
    const id = /submitted (t-\w+) to (\S+) /.exec(add.stdout)?.[1];
    assert.ok(id, add.stdout);
    assert.match(add.stdout, new RegExp(`submitted ${id} to ${project} \\(queued\\)`), 'the success line names the project');
    shipped = id;
    const logs = follow(id, env);

    const parked = await gantry(['wait', id], { env });
    assert.equal(parked.code, 3, `waits for a person: ${parked.stdout}${parked.stderr}`);
    const show = await gantry(['show', id], { env });
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /run\s+#1 parked at plan/);
    assert.match(show.stdout, /^ {4}plan\s+agent\s+waiting/m);
    assert.match(show.stdout, /^ {4}implement\s+agent\s+pending/m);
    assert.match(show.stdout, /^ {4}merge\s+merge\s+pending/m);
    assert.match(show.stdout, /waits for\s+your approval \(step plan\)/);
    assert.match(show.stdout, new RegExp(`next\\s+gantry approve ${id}\\n\\s+gantry changes ${id} "what to change"\\n\\s+gantry reject ${id} "why"`));
    const json = JSON.parse((await gantry(['show', id, '--json'], { env })).stdout) as { next: { commands: string[] }; run: { steps: unknown[] } };
    assert.equal(json.next.commands[0], `gantry approve ${id}`);
    assert.equal(json.run.steps.length, 6);

    const ok = await gantry(['approve', id], { env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((await logs.exited), 0, `logs -f ends with exit 0 when the task ships: ${logs.err()}`);
    assert.match(logs.err(), new RegExp(`${id} shipped`));
    assert.match(logs.out(), /merge\.merged/);
    assert.equal(git(repo, 'show', 'main:GANTRY_EXAMPLE.md'), "Shipped by Gantry's scripted example agent. Delete me.");
    const again = await gantry(['logs', id, '-f'], { env });
    assert.equal(again.code, 0, 'following a task that already shipped ends at once');

    // Session ids: one spelling everywhere a person reads or types them.
    const sessions = JSON.parse((await gantry(['sessions', '--task', id, '--json'], { env })).stdout) as { sessions: Array<{ id: string }> };
    assert.ok(sessions.sessions.length > 0);
    const history = (await gantry(['logs', id, '--limit', '1000'], { env })).stdout;
    assert.ok(history.includes(`[${sessions.sessions[0]!.id}]`), 'logs show session ids as `gantry sessions` lists them');
    assert.doesNotMatch(history, /\[r-\w+:/);
  });

  it('rollback of a shipped task is refused: the merge on main would stay', async () => {
    const r = await gantry(['rollback', shipped, 'base'], { env });
    assert.equal(r.code, 1);
    assert.match(oneLine(r), new RegExp(`task ${shipped} has shipped: its change is merged, and rolling back its workspace would not undo that — undo it on the base branch`));
    assert.equal(git(repo, 'show', 'main:GANTRY_EXAMPLE.md'), "Shipped by Gantry's scripted example agent. Delete me.");
  });

  it('reject at the plan: the task is failed, not failed(awaiting_human); logs -f exits 1', async () => {
    const add = await gantry(['add', 'Not this one', '--json'], { cwd: repo, env });
    const id = (JSON.parse(add.stdout) as { task: { id: string } }).task.id;
    const logs = follow(id, env);
    assert.equal((await gantry(['wait', id], { env })).code, 3);
    const r = await gantry(['reject', id, 'not now'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await logs.exited, 1, 'logs -f ends with exit 1 when the task fails');
    assert.match(logs.err(), new RegExp(`${id} failed`));
    const ls = await gantry(['ls'], { env });
    const line = ls.stdout.split('\n').find((l) => l.startsWith(id)) ?? '';
    assert.match(line, /\sfailed\s/);
    assert.doesNotMatch(line, /awaiting_human/);
    const show = JSON.parse((await gantry(['show', id, '--json'], { env })).stdout) as { task: { stage: string; blockedReason: string | null }; next: { commands: string[] } };
    assert.deepEqual([show.task.stage, show.task.blockedReason], ['failed', null]);
    assert.ok(show.next.commands.includes(`gantry retry ${id}`));
  });

  it("doctor on the coordinator's store: schema ok, the project's config and default agent ok, exit 0", async () => {
    const r = await gantry(['doctor', '--json'], { cwd: repo, env });
    assert.equal(r.code, 0, r.stdout);
    const checks = (JSON.parse(r.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks;
    const store = checks.find((c) => c.name === 'store')!;
    assert.equal(store.status, 'ok', store.detail);
    assert.match(store.detail, /SQLite reachable, schema v\d+$/);
    assert.equal(checks.find((c) => c.name === 'gantry.yaml')?.status, 'ok');
    assert.equal(checks.find((c) => c.name === 'agent scripted')?.status, 'ok');
    assert.equal(checks.find((c) => c.name === 'agent codex')?.status, 'warn', 'a CLI the project does not use is only a warning');
  });

  it('gantry.yaml edits apply on the next add; a broken file is refused by add, config check and doctor', async () => {
    const file = join(repo, 'gantry.yaml');
    const good = readFileSync(file, 'utf8');
    const before = await gantry(['add', 'Quick one', '--pipeline', 'mini'], { cwd: repo, env });
    assert.equal(before.code, 2);
    assert.match(oneLine(before), /unknown pipeline mini/);

    writeFileSync(file, good.replace('pipelines: {}', 'pipelines:\n  mini: { steps: [{ id: implement, kind: agent }, { id: merge, kind: merge }] }'));
    const added = await gantry(['add', 'Quick one', '--pipeline', 'mini', '--json'], { cwd: repo, env });
    assert.equal(added.code, 0, added.stderr);
    assert.equal((JSON.parse(added.stdout) as { task: { pipeline: string } }).task.pipeline, 'mini');

    writeFileSync(file, good.replace('  pipeline: standard', '  pipline: standard'));
    const broken = await gantry(['add', 'Broken'], { cwd: repo, env });
    assert.equal(broken.code, 2);
    assert.match(oneLine(broken), /gantry\.yaml: defaults\.pipline: unknown key "pipline" — did you mean "pipeline"\?/);
    const check = await gantry(['config', 'check'], { cwd: repo, env });
    assert.equal(check.code, 2);
    assert.match(oneLine(check), /defaults\.pipline: unknown key/);
    const doctor = await gantry(['doctor'], { cwd: repo, env });
    assert.equal(doctor.code, 1);
    assert.match(doctor.stdout, /FAIL\s+gantry\.yaml\s+.*defaults\.pipline: unknown key/);

    // No script for the roles the scripted agent would play: refused at add, not at run time.
    writeFileSync(file, good.replace(/^agents:\n[\s\S]*?\n(?=# Budgets)/m, 'agents: {}\n\n'));
    const noScript = await gantry(['add', 'No script'], { cwd: repo, env });
    assert.equal(noScript.code, 2);
    assert.match(oneLine(noScript), /agent scripted \(defaults\.agent in gantry\.yaml\) has no script for role planner, implementer, reviewer — add agents\.scripted\.roles\.planner/);

    writeFileSync(file, good);
    const fixed = await gantry(['config', 'check'], { cwd: repo, env });
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.match(fixed.stdout, /gantry\.yaml is valid/);
    assert.match(fixed.stdout, new RegExp(`loaded into the running coordinator as project ${project}`));
  });

  it('errors about flags speak in flags, not API fields', async () => {
    const stage = await gantry(['ls', '--stage', 'bogus'], { env });
    assert.equal(stage.code, 2);
    assert.match(oneLine(stage), /--stage.*unknown stage "bogus"/);
    const title = await gantry(['add', ' ', '--project', project], { env });
    assert.equal(title.code, 2);
    assert.match(oneLine(title), /the title: title must not be empty — see --help/);
    assert.doesNotMatch(title.stderr, /body\.|query\./);
  });

  it("hints name the command this user has (here: the script node runs, since no gantry is on PATH)", async () => {
    const r = await gantry(['ls', '--home', join(d.home, 'nope')], { env: { ...env, GANTRY_SELF: '' } });
    assert.match(oneLine(r), /start one with `node \S*gantry-source\.mjs up`/);
    const plain = await gantry(['ls', '--home', join(d.home, 'nope')], { env });
    assert.match(plain.stderr, /start one with `gantry up`/);
  });

  it('init finds an installed agent CLI and makes it the default', async () => {
    const fakeless = makeRepo();
    cleanup.push(fakeless);
    // The real CLIs of scripts/agent-clis.json are on the test run's PATH (scripts/run-tests.mjs).
    const r = await gantry(['init', '--json', '--database', join(d.home, 'other.db')], { cwd: fakeless, env: { PATH: process.env.PATH ?? '', GANTRY_HOME: join(d.home, 'other') } });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { agent: string; agentsFound: string[] };
    const expected = out.agentsFound[0] ?? 'scripted';
    assert.equal(out.agent, expected);
    if (process.env.CI === 'true') assert.equal(out.agent, 'claude-code', 'CI installs the real Claude Code CLI');
    assert.match(readFileSync(join(fakeless, 'gantry.yaml'), 'utf8'), new RegExp(`^ {2}agent: ${expected}`, 'm'));
  });
});
