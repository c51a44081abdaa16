// Shell completion: the scripts are generated from the real command tree and actually complete.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gantry } from '../support/cli.js';
import { buildProgram } from '../../src/cli/main.js';
import { completionSpec } from '../../src/cli/commands/completion.js';
import { bashScript, fishScript, zshScript } from '../../src/cli/completion-script.js';

const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

describe('gantry completion', () => {
  it('describes every command, with task ids for commands that take one', async () => {
    const spec = completionSpec(await buildProgram());
    const names = spec.map((c) => c.name);
    for (const n of ['up', 'add', 'ls', 'show', 'logs', 'completion']) assert.ok(names.includes(n), n);
    assert.equal(spec.find((c) => c.name === 'show')!.arg.kind, 'task');
    assert.equal(spec.find((c) => c.name === 'logs')!.arg.kind, 'task');
    const stage = spec.find((c) => c.name === 'ls')!.options.find((o) => o.names.includes('--stage'))!;
    assert.ok(stage.values?.includes('blocked'));
    const notes = spec.find((c) => c.name === 'notifications')!;
    assert.deepEqual(notes.arg, { kind: 'words', words: ['ls', 'ack', 'resolve'] });
  });

  it('bash: the script completes commands, flags, and flag values', async () => {
    // The same generator `gantry completion bash` prints (the CLI path is covered by the error case).
    const r = { stdout: bashScript(completionSpec(await buildProgram())) };
    const dir = mkdtempSync(join(tmpdir(), 'gantry-comp-'));
    try {
      const file = join(dir, 'gantry.bash');
      writeFileSync(file, r.stdout);
      const complete = (...words: string[]) =>
        execFileSync('bash', ['-c', `source "$0"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _gantry; printf '%s\\n' "\${COMPREPLY[@]}"`, file], { encoding: 'utf8' })
          .trim()
          .split('\n');
      assert.deepEqual(complete('gantry', 'lo'), ['logs']);
      assert.deepEqual(complete('gantry', 'logs', '--fo'), ['--follow']);
      assert.deepEqual(complete('gantry', 'ls', '--stage', 'dead'), ['dead_letter']);
      assert.deepEqual(complete('gantry', 'completion', 'z'), ['zsh']);
      assert.deepEqual(complete('gantry', 'notifications', 'a'), ['ack']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('zsh: the script parses and registers itself', { skip: has('zsh') ? false : 'zsh is not installed' }, async () => {
    const r = { stdout: zshScript(completionSpec(await buildProgram())) };
    assert.match(r.stdout, /^#compdef gantry/);
    const out = execFileSync('zsh', ['-f', '-c', 'autoload -U compinit && compinit -u -D && eval "$(cat)" && print -r -- ${_comps[gantry]}'], { input: r.stdout, encoding: 'utf8' });
    assert.equal(out.trim(), '_gantry');
  });

  it('the command prints the script, and refuses an unknown shell', async () => {
    const ok = await gantry(['completion', 'bash']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, bashScript(completionSpec(await buildProgram())));
    const fish = await gantry(['completion', 'fish']);
    assert.equal(fish.code, 0, fish.stderr);
    assert.equal(fish.stdout, fishScript(completionSpec(await buildProgram())));
    const r = await gantry(['completion', 'tcsh']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no completion for shell "tcsh" — use one of: bash, zsh, fish/);
  });

  it('fish: every command, its flags, flag values and task ids', async () => {
    const script = fishScript(completionSpec(await buildProgram()));
    assert.match(script, /^complete -c gantry -n __fish_use_subcommand -a logs -d /m);
    assert.match(script, /^complete -c gantry -n '__fish_seen_subcommand_from logs' -s f -l follow -d /m);
    assert.match(script, /^complete -c gantry -n '__fish_seen_subcommand_from ls' -l stage -x -a '[^']*dead_letter[^']*'/m);
    assert.match(script, /^complete -c gantry -n '__fish_seen_subcommand_from show' -x -a '\(__gantry_task_ids\)'$/m);
    assert.match(script, /^complete -c gantry -n '__fish_seen_subcommand_from completion' -x -a 'bash zsh fish'$/m);
  });

  it('fish: the script loads and completes', { skip: has('fish') ? false : 'fish is not installed' }, async () => {
    const script = fishScript(completionSpec(await buildProgram()));
    const dir = mkdtempSync(join(tmpdir(), 'gantry-fish-'));
    try {
      const file = join(dir, 'gantry.fish');
      writeFileSync(file, script);
      const complete = (line: string) =>
        execFileSync('fish', ['--no-config', '-c', `source ${file}; complete -C '${line}'`], { encoding: 'utf8' })
          .trim()
          .split('\n')
          .map((l) => l.split('\t')[0]);
      assert.deepEqual(complete('gantry lo'), ['logs']);
      assert.deepEqual(complete('gantry logs --fo'), ['--follow']);
      assert.deepEqual(complete('gantry ls --stage dead'), ['dead_letter']);
      assert.deepEqual(complete('gantry completion f'), ['fish']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
