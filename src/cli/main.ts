// The `gantry` command line. Each command lives in ./commands and registers itself here. Only the
// module of the command being run is loaded (and each loads its heavy parts — the store, the
// coordinator, agents — inside its action), so a command starts in tens of milliseconds; help,
// completion and an unknown command load every module.
import { Command, CommanderError } from 'commander';
import { VERSION } from '../app/version.js';
import { localize } from './self.js';

type Register = (program: Command) => void;

const MODULES = {
  up: () => import('./commands/up.js').then((m) => [m.registerUp]),
  init: () => import('./commands/init.js').then((m) => [m.registerInit]),
  project: () => import('./commands/project.js').then((m) => [m.registerProjectCommands]),
  tasks: () => import('./commands/tasks.js').then((m) => [m.registerTaskCommands]),
  doctor: () => import('./commands/doctor.js').then((m) => [m.registerDoctor]),
  config: () => import('./commands/config.js').then((m) => [m.registerConfig]),
  runs: () => import('./commands/runs.js').then((m) => [m.registerRunCommands]),
  checkpoints: () => import('./commands/checkpoints.js').then((m) => [m.registerCheckpointCommands]),
  fleet: () => import('./commands/fleet.js').then((m) => [m.registerFleetCommands]),
  sessions: () => import('./commands/sessions.js').then((m) => [m.registerSessionCommands]),
  logs: () => import('./commands/logs.js').then((m) => [m.registerLogs]),
  wait: () => import('./commands/wait.js').then((m) => [m.registerWait]),
  completion: () => import('./commands/completion.js').then((m) => [m.registerCompletion]),
  attach: () => import('./commands/attach.js').then((m) => [m.registerAttach]),
  demo: () => import('./commands/demo.js').then((m) => [m.registerDemo]),
} satisfies Record<string, () => Promise<Register[]>>;

type ModuleName = keyof typeof MODULES;

/**
 * Which module registers each top-level command; a test checks it against the registered tree.
 * `completion`, `help` and unknown words are absent on purpose: they need the whole tree.
 */
export const COMMAND_MODULES: Readonly<Record<string, ModuleName>> = {
  up: 'up',
  init: 'init',
  project: 'project',
  add: 'tasks', ls: 'tasks', show: 'tasks',
  doctor: 'doctor',
  config: 'config',
  approve: 'runs', retry: 'runs', merge: 'runs', hold: 'runs', changes: 'runs', answer: 'runs', review: 'runs', restart: 'runs', reject: 'runs', cancel: 'runs',
  checkpoints: 'checkpoints', diff: 'checkpoints', gc: 'checkpoints', rollback: 'checkpoints',
  factory: 'fleet', factories: 'fleet', requeue: 'fleet', ship: 'fleet',
  sessions: 'sessions', reply: 'sessions', notifications: 'sessions',
  logs: 'logs',
  wait: 'wait',
  attach: 'attach',
  demo: 'demo',
};

const ORDER = Object.keys(MODULES) as ModuleName[];

function newProgram(): Command {
  return new Command('gantry')
    .description('Gantry turns a backlog of tasks into merged, verified changes by running coding agents in isolated git worktrees.')
    .version(VERSION, '-v, --version')
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (str) => process.stdout.write(localize(str)),
      writeErr: (str) => process.stderr.write(localize(str)),
      outputError: (str, write) => write(`gantry: ${str.replace(/^error: /, '').trim().split('\n').join(' ')}\n`),
    })
    .exitOverride()
    .addHelpText('after', '\nStart here:\n  $ gantry up            # coordinator + dashboard on embedded SQLite\n  $ gantry init          # in your repository\n  $ gantry add "title"   # submit a task\n');
}

async function load(program: Command, names: readonly ModuleName[]): Promise<Command> {
  const registers = await Promise.all(names.map((n) => MODULES[n]()));
  for (const r of registers.flat()) r(program);
  return program;
}

/** The whole command tree (help, completion, tests). */
export function buildProgram(): Promise<Command> {
  return load(newProgram(), ORDER);
}

/** The command word: the first argument that is not an option (the program itself has only -v and -h). */
export function commandWord(args: readonly string[]): string | undefined {
  return args.find((a) => !a.startsWith('-'));
}

/** The program with what these arguments need: the command's own module, or everything. */
export function programFor(args: readonly string[]): Promise<Command> {
  const word = commandWord(args);
  const only = word ? COMMAND_MODULES[word] : undefined;
  return load(newProgram(), only ? [only] : ORDER);
}

export async function main(argv: string[]): Promise<void> {
  const args = argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  const program = await programFor(args);
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
