// gantry attach ID: join the tmux session of an agent started in interactive mode
// (agents.<id>.interactive: true). Detach with the tmux prefix + d; the agent keeps running.
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { hasTmuxSession, tmuxSessionName } from '../../agents/process/tmux.js';
import { GantryError } from '../../domain/errors.js';
import { launchSessionId } from '../../engine/agent-runner.js';
import { action, examples } from '../common.js';
import { SESSION_EXAMPLE, SESSION_IDS } from './sessions.js';

export function registerAttach(program: Command): void {
  program
    .command('attach <session>')
    .description("attach your terminal to an interactive agent session's tmux pane")
    .addHelpText('after', examples([`gantry attach ${SESSION_EXAMPLE}`]) + SESSION_IDS)
    .action(
      action(async (given: string) => {
        const session = launchSessionId(given);
        const name = tmuxSessionName(session);
        if (!(await hasTmuxSession(name))) {
          throw new GantryError('not_found', `session ${session} has no tmux pane on this machine`, {
            hint: 'only agents started with `interactive: true` in gantry.yaml run in tmux; check the session id with `gantry show`',
          });
        }
        const code = await new Promise<number>((resolve) => {
          spawn('tmux', ['attach-session', '-t', `=${name}`], { stdio: 'inherit' }).on('exit', (c) => resolve(c ?? 1));
        });
        process.exitCode = code;
      }),
    );
}
