// gantry completion bash|zsh|fish: prints a completion script built from the live command tree.
import type { Command, Option } from 'commander';
import { GantryError } from '../../domain/errors.js';
import { STAGES } from '../../domain/task.js';
import { bashScript, fishScript, zshScript, type CompletionCommand, type CompletionOption } from '../completion-script.js';
import { action, examples } from '../common.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
/** Option values we know the choices of, by long flag. */
const CHOICES: Record<string, readonly string[]> = { '--stage': STAGES, '--agent': ['claude-code', 'codex', 'gemini', 'opencode', 'aider', 'command', 'scripted'] };
const PATH_FLAGS = /^--(home|body-file|file|dir|config|out)$/;

export function completionSpec(program: Command): CompletionCommand[] {
  return program.commands
    .filter((c) => !(c as Command & { _hidden?: boolean })._hidden)
    .map((c) => {
      const first = c.registeredArguments[0]?.name() ?? null;
      // A command with subcommands (notifications ack|resolve, factories list|enroll|drain):
      // its first word completes to the subcommands, its flags are theirs.
      const subs = c.commands.filter((s) => !(s as Command & { _hidden?: boolean })._hidden);
      const all = [...c.options, ...subs.flatMap((s) => s.options)].filter((o, i, arr) => arr.findIndex((x) => x.long === o.long && x.short === o.short) === i);
      const options: CompletionOption[] = all.map((o: Option) => {
        const names = [o.short, o.long].filter((n): n is string => !!n);
        const long = o.long ?? '';
        const takesValue = o.required || o.optional;
        return {
          names,
          description: o.description,
          takesValue,
          ...(takesValue && CHOICES[long] ? { values: CHOICES[long] } : {}),
          ...(takesValue && PATH_FLAGS.test(long) ? { path: true } : {}),
        };
      });
      const arg: CompletionCommand['arg'] = subs.length
        ? { kind: 'words', words: subs.map((s) => s.name()) }
        : c.name() === 'completion'
          ? { kind: 'words', words: SHELLS }
          : first && /^(id|task)$/.test(first)
            ? { kind: 'task' }
            : { kind: 'none' };
      return { name: c.name(), description: c.description(), options, arg };
    });
}

export function registerCompletion(program: Command): void {
  program
    .command('completion <shell>')
    .description('print a shell completion script (bash, zsh or fish)')
    .addHelpText('after', examples(['source <(gantry completion bash)', 'gantry completion zsh > "${fpath[1]}/_gantry"', 'gantry completion fish > ~/.config/fish/completions/gantry.fish']))
    .action(
      action(async (shell: string) => {
        if (!(SHELLS as readonly string[]).includes(shell)) {
          throw new GantryError('bad_request', `no completion for shell "${shell}"`, { hint: `use one of: ${SHELLS.join(', ')}` });
        }
        const spec = completionSpec(program);
        process.stdout.write(shell === 'bash' ? bashScript(spec) : shell === 'zsh' ? zshScript(spec) : fishScript(spec));
      }),
    );
}
