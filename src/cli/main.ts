// The `gantry` command line. Each command lives in ./commands and registers itself here.
import { Command, CommanderError } from 'commander';
import { VERSION } from '../app/version.js';
import { registerUp } from './commands/up.js';
import { registerInit } from './commands/init.js';
import { registerTaskCommands } from './commands/tasks.js';
import { registerDoctor } from './commands/doctor.js';
import { registerRunCommands } from './commands/runs.js';
import { registerCheckpointCommands } from './commands/checkpoints.js';
import { registerFleetCommands } from './commands/fleet.js';
import { registerSessionCommands } from './commands/sessions.js';
import { registerLogs } from './commands/logs.js';
import { registerCompletion } from './commands/completion.js';
import { registerWait } from './commands/wait.js';
import { registerAttach } from './commands/attach.js';
import { registerDemo } from './commands/demo.js';

export function buildProgram(): Command {
  const program = new Command('gantry')
    .description('Gantry turns a backlog of tasks into merged, verified changes by running coding agents in isolated git worktrees.')
    .version(VERSION, '-v, --version')
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: (str, write) => write(`gantry: ${str.replace(/^error: /, '').trim().split('\n').join(' ')}\n`) })
    .exitOverride();
  registerUp(program);
  registerInit(program);
  registerTaskCommands(program);
  registerDoctor(program);
  registerRunCommands(program);
  registerCheckpointCommands(program);
  registerFleetCommands(program);
  registerSessionCommands(program);
  registerLogs(program);
  registerWait(program);
  registerCompletion(program);
  registerAttach(program);
  registerDemo(program);
  program.addHelpText('after', '\nStart here:\n  $ gantry up            # coordinator + dashboard on embedded SQLite\n  $ gantry init          # in your repository\n  $ gantry add "title"   # submit a task\n');
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    throw e;
  }
}
