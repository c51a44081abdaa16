// `gantry up` as a person at a terminal meets it: a taken port, the login link, Ctrl-C while work
// runs (and a second Ctrl-C). Real child processes; a real pipeline with the scripted agent.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GANTRY_BIN, GIT_IDENTITY, NO_AGENTS_PATH, gantry } from '../support/cli.js';
import { makeRepo } from '../support/git.js';

const dirs: string[] = [];
const tmp = (prefix: string): string => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};

function takePort(): Promise<{ port: number; server: Server }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, server }));
  });
}

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  until(re: RegExp, stream: 'out' | 'err', what: string): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
}

function start(cmd: string, args: string[], env: Record<string, string>): Proc {
  const child = spawn(cmd, args, { env: { ...process.env, GANTRY_URL: '', GANTRY_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  child.stdout!.on('data', (b: Buffer) => ((out += b), wake()));
  child.stderr!.on('data', (b: Buffer) => ((err += b), wake()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => (wake(), r(code))));
  return {
    child,
    out: () => out,
    err: () => err,
    exited,
    async until(re, stream, what) {
      for (;;) {
        const m = re.exec(stream === 'out' ? out : err);
        if (m) return m;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited while waiting for ${what}:\n${out}\n${err}`);
        await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
}

after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('gantry up', () => {
  it('on a taken port: one line that says what to do, no raw EADDRINUSE', async () => {
    const { port, server } = await takePort();
    try {
      const r = await gantry(['up', '--port', String(port), '--home', tmp('gantry-up-port-')]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`port ${port} on 127.0.0.1 is already in use — .*pass --port N, or --port 0 for any free port`));
      assert.doesNotMatch(r.stderr, /EADDRINUSE/);
    } finally {
      server.close();
    }
  });

  it('prints a login link on a terminal, and only where the token is anywhere else', async () => {
    const home = tmp('gantry-up-tty-');
    // Not a terminal: the admin token stays out of whatever records stdout.
    const plain = start(process.execPath, [GANTRY_BIN, 'up', '--port', '0', '--home', home, '--factories', '0'], {});
    await plain.until(/dashboard .*\n/, 'out', 'the dashboard line');
    assert.match(plain.out(), new RegExp(`dashboard\\s+http://127\\.0\\.0\\.1:\\d+/\\s+\\(sign in with the token in ${join(home, 'admin.token')}\\)`));
    assert.doesNotMatch(plain.out(), /gnt_|#token=/);
    plain.child.kill('SIGTERM');
    assert.equal(await plain.exited, 0, `${plain.out()}\n${plain.err()}`);

    // A terminal (util-linux `script` gives it a pty): a link that signs in.
    const token = readFileSync(join(home, 'admin.token'), 'utf8').trim();
    const cmd = `exec ${process.execPath} ${GANTRY_BIN} up --port 0 --home ${home} --factories 0`;
    const tty = start('script', ['-qfec', cmd, '/dev/null'], {});
    const m = await tty.until(/dashboard\s+(http:\/\/127\.0\.0\.1:\d+\/#token=(\S+))/, 'out', 'the login link');
    assert.equal(decodeURIComponent(m[2]!), token);
    const pid = (JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { pid: number }).pid;
    tty.child.kill('SIGTERM');
    await tty.exited;
    // The terminal closed under it: gantry up ends too — wait for its pid to go.
    for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  it('Ctrl-C says what it waits for; a second Ctrl-C interrupts the work at once, which resumes on the next up', async () => {
    const home = tmp('gantry-up-ctrlc-');
    const repo = makeRepo();
    dirs.push(repo);
    writeFileSync(
      join(repo, 'gantry.yaml'),
      'version: 1\ndefaults: { pipeline: quick, agent: scripted }\nagents:\n  scripted:\n    roles:\n      implementer: [ { say: "working on it" }, { hang: true } ]\n',
    );
    const env = { GANTRY_HOME: home, PATH: NO_AGENTS_PATH, ...GIT_IDENTITY };
    const up = start(process.execPath, [GANTRY_BIN, 'up', '--port', '0', '--json'], env);
    await up.until(/\n}/, 'out', 'up to serve');
    assert.equal((await gantry(['init'], { cwd: repo, env })).code, 0);
    const add = await gantry(['add', 'Hang on', '--json'], { cwd: repo, env });
    assert.equal(add.code, 0, add.stderr);
    const id = (JSON.parse(add.stdout) as { task: { id: string } }).task.id;
    // The agent is at work once its session says so.
    for (let i = 0; ; i++) {
      const s = JSON.parse((await gantry(['sessions', '--task', id, '--json'], { env })).stdout) as { sessions: Array<{ display: string }> };
      if (s.sessions.some((x) => x.display === 'working')) break;
      assert.ok(i < 600, 'the agent started');
      await new Promise((r) => setTimeout(r, 100));
    }

    up.child.kill('SIGINT');
    await up.until(new RegExp(`stopping: waiting for 1 running task \\(${id}\\) to reach a checkpoint and hand back their lease .* press Ctrl-C again to stop them now`), 'err', 'the first Ctrl-C message');
    up.child.kill('SIGINT');
    await up.until(new RegExp(`stopping now: interrupting 1 running task \\(${id}\\); each checkpoints and resumes on the next \`gantry up\``), 'err', 'the second Ctrl-C message');
    assert.equal(await up.exited, 0, up.err());
    assert.match(up.err(), /\nstopped\n$/);
    assert.ok(!existsSync(join(home, 'daemon.json')), 'a clean stop removes daemon.json');

    // Nothing lost: the task was handed back, not failed, and is claimed again by the next up.
    const again = start(process.execPath, [GANTRY_BIN, 'up', '--port', '0', '--json'], env);
    try {
      await again.until(/\n}/, 'out', 'the second up to serve');
      const show = JSON.parse((await gantry(['show', id, '--json'], { env })).stdout) as { task: { stage: string; failureKind: string | null } };
      assert.ok(!['failed', 'cancelled', 'dead_letter'].includes(show.task.stage), `the task survives the stop: ${show.task.stage}`);
      const started = await gantry(['wait', id, '--until', 'started', '--timeout', '120'], { env });
      assert.equal(started.code, 0, `claimed again: ${started.stdout}${started.stderr}`);
    } finally {
      again.child.kill('SIGINT');
      again.child.kill('SIGINT');
      await again.exited;
    }
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
