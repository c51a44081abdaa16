// Interactive mode: a real tmux session, a clean environment inside the pane, log capture, exit
// status from the dead pane, and stop() reaching the pane's process group.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { claudeCodeInteractivePlan } from '../../src/agents/claude-code.js';
import { codexInteractivePlan } from '../../src/agents/codex.js';
import { hasTmuxSession, launchInTmux } from '../../src/agents/process/tmux.js';
import { resolvePermissions } from '../../src/agents/permissions.js';
import { sandbox, type Sandbox } from './support.js';

const tmuxMissing = ((): string | false => {
  try {
    execFileSync('tmux', ['-V']);
    return false;
  } catch {
    return 'tmux not installed; skipping interactive-mode tests';
  }
})();

describe('interactive mode (tmux)', { skip: tmuxMissing }, () => {
  let box: Sandbox;
  before(() => (box = sandbox('tmux')));
  after(() => box.cleanup());

  it('runs in a clean environment, logs the pane, and records the exit status', async () => {
    const logFile = join(box.logs, 't1.log');
    const t = await launchInTmux({
      sessionId: `t1-${process.pid}`,
      argv: ['sh', '-c', 'echo "FOO=$FOO CLAUDECODE=${CLAUDECODE:-unset}"; sleep 0.3; exit 3'],
      cwd: box.workspace,
      env: { FOO: "it's set", PATH: process.env.PATH ?? '' },
      logFile,
      pollMs: 50,
    });
    assert.equal(await hasTmuxSession(t.name), true);
    assert.deepEqual(await t.exited, { code: 3, signal: null, reason: 'exited' });
    assert.equal(await hasTmuxSession(t.name), false);
    assert.match(readFileSync(logFile, 'utf8'), /FOO=it's set CLAUDECODE=unset/);
  });

  it('stop() ends the pane process and says why', async () => {
    const t = await launchInTmux({ sessionId: `t2-${process.pid}`, argv: ['sleep', '300'], cwd: box.workspace, env: { PATH: process.env.PATH ?? '' }, logFile: join(box.logs, 't2.log'), pollMs: 50 });
    const info = await t.stop();
    assert.equal(info.reason, 'stopped');
    assert.equal(await hasTmuxSession(t.name), false);
  });

  it('builds TUI command lines with the same permissions and no headless flags', () => {
    const spec = { sessionId: 's', launchGeneration: 1, workspace: box.workspace, prompt: 'do it', permissions: resolvePermissions(undefined), logFile: join(box.logs, 's.log') };
    const c = claudeCodeInteractivePlan(spec, 'claude');
    assert.ok(!c.argv.includes('-p') && !c.argv.includes('stream-json'));
    assert.ok(c.argv.includes('acceptEdits'));
    assert.equal(c.argv.at(-1), 'do it');
    const x = codexInteractivePlan({ ...spec, resumeAgentSessionId: 't-1' }, 'codex', []);
    assert.deepEqual(x.argv.slice(0, 3), ['codex', 'resume', 't-1']);
    assert.ok(!x.argv.includes('exec') && x.argv.includes('sandbox_mode="workspace-write"'));
  });
});
