// Agent containment: the pure sandbox decider and bwrap argv (table tests), the inner-sandbox error
// recognizer, and a real bubblewrap launch (where the host has one) that cannot see the Gantry home,
// the user's home or a token file, cannot write the shared .git, and can commit on its branch.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bwrapArgs, decideSandbox, type SandboxLayout } from '../../src/domain/sandbox.js';
import { innerSandboxFailure } from '../../src/agents/inner-sandbox.js';
import { codexInnerSandbox, codexPlan } from '../../src/agents/codex.js';
import { sandboxHost } from '../../src/agents/sandbox/host.js';
import { toolsOf } from '../../src/agents/sandbox/wrap.js';
import { command } from '../../src/agents/command.js';
import type { LaunchSpec, SandboxSpec } from '../../src/ports/agent.js';
import { collect, ofType } from './support.js';
import { judgeSandbox } from '../../src/cli/commands/doctor.js';

describe('sandbox decider (pure)', () => {
  const linux = { platform: 'linux', bwrap: '/usr/bin/bwrap', probeError: null };
  const table: [string, Parameters<typeof decideSandbox>[0], 'auto' | 'required' | 'off', { mode: string; refuse: boolean; why: RegExp }][] = [
    ['bwrap works', linux, 'auto', { mode: 'bwrap', refuse: false, why: /bubblewrap \(\/usr\/bin\/bwrap\)/ }],
    ['project turned it off', linux, 'off', { mode: 'none', refuse: false, why: /sandbox.mode: off/ }],
    ['no bwrap, auto', { ...linux, bwrap: null }, 'auto', { mode: 'none', refuse: false, why: /not installed: agents run unsandboxed/ }],
    ['no bwrap, required', { ...linux, bwrap: null }, 'required', { mode: 'none', refuse: true, why: /requires a sandbox/ }],
    ['no user namespaces', { ...linux, probeError: 'No permissions to create new namespace' }, 'auto', { mode: 'none', refuse: false, why: /cannot create a sandbox here: No permissions/ }],
    ['macOS', { ...linux, platform: 'darwin' }, 'auto', { mode: 'none', refuse: false, why: /Linux-only/ }],
  ];
  for (const [name, host, cfg, want] of table) {
    it(name, () => {
      const d = decideSandbox(host, cfg);
      assert.equal(d.mode, want.mode);
      assert.equal(d.refuse, want.refuse);
      assert.match(d.why, want.why);
    });
  }

  const layout = (over: Partial<SandboxLayout> = {}): SandboxLayout => ({
    worktree: '/h/.gantry/workspaces/p/t1', gitDir: '/src/p/.git/worktrees/t1', gitCommonDir: '/src/p/.git', branch: 'gantry/t1',
    hide: ['/h/.gantry', '/h'], hideFiles: ['/etc/gantry/factory.token'], tools: ['/h/.nvm/versions/node/v20/bin', '/usr/bin'], writable: ['/h/.codex'], grants: [{ path: '/data', write: false }], network: true, ...over,
  });
  const pairs = (a: string[], flag: string): string[] => a.flatMap((x, i) => (x === flag ? [a[i + 1]!] : []));

  it('hides the homes (outer first), shows tools under them read-only, the worktree and its branch writable, .git config/hooks/link read-only', () => {
    const a = bwrapArgs(layout());
    assert.deepEqual(pairs(a, '--tmpfs'), ['/tmp', '/h', '/h/.gantry']);
    assert.ok(a.join(' ').includes('--ro-bind-try /dev/null /etc/gantry/factory.token'));
    assert.ok(a.join(' ').includes('--ro-bind-try /h/.gantry/workspaces/p/t1/.git /h/.gantry/workspaces/p/t1/.git'), 'the worktree link is read-only');
    assert.ok(!pairs(a, '--ro-bind-try').includes('/usr/bin'), 'tools outside hidden trees are already visible');
    assert.deepEqual(pairs(a, '--bind'), ['/h/.gantry/workspaces/p/t1']);
    assert.deepEqual(pairs(a, '--bind-try'), ['/src/p/.git/objects', '/src/p/.git/refs/heads/gantry', '/src/p/.git/logs/refs/heads/gantry', '/src/p/.git/worktrees/t1', '/h/.codex']);
    assert.deepEqual(pairs(a, '--ro-bind'), ['/', '/src/p/.git']);
    assert.ok(a.includes('--share-net') && a.includes('--unshare-all') && a.includes('--die-with-parent'));
    assert.ok(a.indexOf('--tmpfs') < a.indexOf('--bind'), 'hidden before shown again');
  });

  it('tools under the private /tmp (a clone or npm prefix living there) are shown again, read-only', () => {
    const a = bwrapArgs(layout({ tools: ['/tmp/ci/.agent-clis/abc/bin', '/tmp/ci/.agent-clis/abc/lib', '/usr/bin'] }));
    const shown = pairs(a, '--ro-bind-try');
    assert.ok(shown.includes('/tmp/ci/.agent-clis/abc/bin') && shown.includes('/tmp/ci/.agent-clis/abc/lib'));
    assert.ok(a.indexOf('/tmp/ci/.agent-clis/abc/bin') > a.indexOf('/tmp'), 'after /tmp is made private');
  });

  it('toolsOf: PATH entries, a bin dir\'s lib, and a node_modules/.bin\'s packages (npm prefixes link into them)', () => {
    assert.deepEqual(toolsOf({ PATH: '/p/node_modules/.bin:/h/.local/bin:relative:/usr/sbin' }), ['/p/node_modules', '/h/.local/bin', '/h/.local/lib', '/usr/sbin']);
  });

  it("Gantry's installation and files the command names are shown where masked; a hidden dir or file inside them stays hidden", () => {
    const a = bwrapArgs(layout({ runtime: ['/tmp/ci', '/tmp/t/agent.mjs', '/opt/gantry'], hide: ['/h', '/tmp/ci/.gantry'], hideFiles: ['/tmp/ci/admin.token'] }));
    const shown = pairs(a, '--ro-bind-try');
    assert.ok(shown.includes('/tmp/ci') && shown.includes('/tmp/t/agent.mjs'));
    assert.ok(!shown.includes('/opt/gantry'), 'outside anything masked it is visible already');
    const tmpfs = a.flatMap((x, i) => (x === '--tmpfs' ? [[a[i + 1], i] as const] : []));
    const rehidden = tmpfs.filter(([p]) => p === '/tmp/ci/.gantry').map(([, i]) => i);
    assert.ok(rehidden.some((i) => i > a.indexOf('/tmp/ci')), 'the home inside the clone is hidden again after the clone is shown');
    assert.ok(a.lastIndexOf('/tmp/ci/admin.token') > a.indexOf('/tmp/ci'), 'so is a token file');
  });

  it('network off, readonly, and a repository of its own', () => {
    assert.ok(!bwrapArgs(layout({ network: false })).includes('--share-net'));
    const ro = bwrapArgs(layout({ readonly: true }));
    assert.deepEqual(pairs(ro, '--bind-try'), ['/h/.codex']);
    assert.ok(pairs(ro, '--ro-bind').includes('/h/.gantry/workspaces/p/t1'));
    const own = bwrapArgs(layout({ gitDir: '/w/.git', gitCommonDir: '/w/.git', worktree: '/w' }));
    assert.ok(pairs(own, '--bind').includes('/w/.git'));
    assert.deepEqual(pairs(own, '--ro-bind-try').filter((p) => p.startsWith('/w/.git/')), ['/w/.git/config', '/w/.git/hooks', '/w/.git/info']);
  });

  it('doctor: says which mode is active and why; warns where secrets are reachable', () => {
    const on = judgeSandbox(decideSandbox(linux, 'auto'), { dir: '/h/.gantry', mode: 0o40700 });
    assert.deepEqual(on.map((r) => [r.name, r.status]), [['sandbox', 'ok']]);
    const off = judgeSandbox(decideSandbox({ ...linux, bwrap: null }, 'auto'), { dir: '/h/.gantry', mode: 0o40755 });
    assert.deepEqual(off.map((r) => [r.name, r.status]), [['sandbox', 'warn'], ['secrets', 'warn'], ['secrets', 'warn']]);
    assert.match(off[1]!.fix!, /chmod 700/);
    assert.equal(judgeSandbox(decideSandbox({ ...linux, bwrap: null }, 'required'), { dir: '/h', mode: null })[0]!.status, 'fail');
  });

  it("recognizes an agent's broken inner sandbox in command output", () => {
    assert.equal(innerSandboxFailure('bwrap: execvp codex-linux-sandbox: No such file or directory\n'), 'bwrap: execvp codex-linux-sandbox: No such file or directory');
    assert.equal(innerSandboxFailure('bwrap: No permissions to create new namespace, likely because the kernel does not allow'), 'bwrap: No permissions to create new namespace, likely because the kernel does not allow');
    assert.equal(innerSandboxFailure('fatal: not a git repository'), null);
  });

  it("codex: its own sandbox off inside Gantry's, on without it; broken when bwrap has no helper", () => {
    const spec = { sessionId: 's', launchGeneration: 1, workspace: '/w', prompt: 'p', permissions: { mode: 'edits', allowedTools: [], skipPermissions: false }, logFile: '/l' } as LaunchSpec;
    assert.ok(codexPlan({ ...spec, sandbox: {} as SandboxSpec }, 'codex', []).argv.join(' ').includes('sandbox_mode="danger-full-access"'));
    assert.ok(codexPlan(spec, 'codex', []).argv.join(' ').includes('sandbox_mode="workspace-write"'));
    assert.equal(codexInnerSandbox({ PATH: '/nonexistent' }, true).state, 'off');
    assert.equal(codexInnerSandbox({ PATH: '/nonexistent' }, false).state, 'own');
  });

  it('codex: its own sandbox is broken only with bwrap, no helper, and CODEX_HOME under its temporary directory', () => {
    const root = mkdtempSync(join(tmpdir(), 'gantry-inner-'));
    try {
      const bin = join(root, 'bin');
      const helperBin = join(root, 'helper-bin');
      for (const [dir, name] of [[bin, 'bwrap'], [helperBin, 'codex-linux-sandbox']] as const) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, name), '#!/bin/sh\n', { mode: 0o755 });
      }
      const tmp = join(root, 'tmp');
      const rows: [string, NodeJS.ProcessEnv, string][] = [
        ['bwrap, no helper, CODEX_HOME under TMPDIR', { PATH: bin, TMPDIR: tmp, CODEX_HOME: join(tmp, 'codex') }, 'broken'],
        ['bwrap, no helper, ~/.codex under TMPDIR', { PATH: bin, TMPDIR: tmp, HOME: join(tmp, 'home') }, 'broken'],
        ['bwrap, no helper, CODEX_HOME elsewhere', { PATH: bin, TMPDIR: tmp, CODEX_HOME: join(root, 'codex') }, 'own'],
        ['bwrap and the helper on PATH', { PATH: `${bin}:${helperBin}`, TMPDIR: tmp, CODEX_HOME: join(tmp, 'codex') }, 'own'],
        ['no bwrap', { PATH: helperBin, TMPDIR: tmp, CODEX_HOME: join(tmp, 'codex') }, 'own'],
        ['no CODEX_HOME, no HOME', { PATH: bin, TMPDIR: tmp }, 'own'],
      ];
      for (const [name, env, want] of rows) assert.equal(codexInnerSandbox(env, false).state, want, name);
      assert.equal(codexInnerSandbox(rows[0]![1], true).state, 'off');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

const host = sandboxHost();
const bwrap = host.bwrap && !host.probeError ? host.bwrap : null;

describe('a hostile command agent inside the real sandbox', { skip: !bwrap && `no working bubblewrap here (${host.probeError ?? 'not installed'})` }, () => {
  it('cannot read the Gantry home, the user home or a token file; cannot touch the shared .git or other refs; commits on its branch', async () => {
    const root = mkdtempSync(join(tmpdir(), 'gantry-sbx-'));
    try {
      const g = (cwd: string, ...a: string[]) => execFileSync('git', ['-C', cwd, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { encoding: 'utf8' }).trim();
      const repo = join(root, 'repo');
      execFileSync('git', ['init', '-q', '-b', 'main', repo]);
      writeFileSync(join(repo, 'a.txt'), 'a\n');
      g(repo, 'add', '.');
      g(repo, 'commit', '-qm', 'init');
      const gantryHome = join(root, 'gantry');
      const userHome = join(root, 'user');
      mkdirSync(join(userHome, '.ssh'), { recursive: true });
      writeFileSync(join(userHome, '.ssh', 'id_rsa'), 'PRIVATE');
      mkdirSync(gantryHome);
      writeFileSync(join(gantryHome, 'admin.token'), 'ADMIN');
      writeFileSync(join(gantryHome, 'gantry.db'), 'DB');
      const tokenFile = join(root, 'factory.token');
      writeFileSync(tokenFile, 'FACTORY');
      const wt = join(gantryHome, 'workspaces', 'p', 't1');
      const other = join(gantryHome, 'workspaces', 'p', 't2');
      g(repo, 'worktree', 'add', '-q', '-b', 'gantry/t1', wt);
      g(repo, 'worktree', 'add', '-q', '-b', 'gantry/t2', other);
      const mainBefore = g(repo, 'rev-parse', 'main');
      const script = join(root, 'agent.sh');
      writeFileSync(script, [
        '#!/bin/sh',
        `for f in ../../../admin.token ${gantryHome}/admin.token ${gantryHome}/gantry.db ${tokenFile} ${userHome}/.ssh/id_rsa ${other}/a.txt; do if [ -s "$f" ]; then echo "READ $f"; fi; done`,
        `echo evil > "$(git rev-parse --git-common-dir)/hooks/pre-commit" 2>/dev/null && echo WROTE hook`,
        `git config core.hooksPath /tmp 2>/dev/null && echo WROTE config`,
        `git update-ref refs/heads/main HEAD 2>/dev/null && echo MOVED main`,
        `echo 'gitdir: /elsewhere' > .git 2>/dev/null && echo WROTE link`,
        `touch /tmp/private-tmp-file`,
        `echo work > b.txt && git add b.txt && git -c user.name=a -c user.email=a@b commit -qm agent && echo COMMITTED`,
        '',
      ].join('\n'), { mode: 0o755 });
      const spec: LaunchSpec = {
        sessionId: 's1', launchGeneration: 1, workspace: wt, prompt: 'p', permissions: { mode: 'edits', allowedTools: [], skipPermissions: false },
        logFile: join(gantryHome, 'logs', 's1', '1.log'), options: { argv: [script] }, env: { HOME: userHome },
        sandbox: { bwrap: bwrap!, hide: [gantryHome], hideFiles: [tokenFile], writable: [join(gantryHome, 'logs', 's1', 's1')], grants: [{ path: script, write: false }], network: true },
      };
      const events = await collect(command.launch(spec));
      assert.equal(ofType(events, 'exited')[0]?.code, 0, readFileSync(spec.logFile, 'utf8'));
      const out = readFileSync(spec.logFile, 'utf8');
      assert.doesNotMatch(out, /READ |WROTE |MOVED /, out);
      assert.match(out, /COMMITTED/, out);
      assert.equal(g(repo, 'rev-parse', 'main'), mainBefore, 'main did not move');
      assert.equal(g(wt, 'log', '-1', '--format=%s'), 'agent', 'the agent committed on its own branch');
      assert.equal(existsSync('/tmp/private-tmp-file'), false, '/tmp is private');
      assert.match(readFileSync(join(wt, '.git'), 'utf8'), /^gitdir: /);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
