// Shell completion scripts generated from the command tree, so a new command or flag completes
// without touching this file. Pure: spec in, script out.
export interface CompletionOption {
  /** `--body`, and the short form if any. */
  names: string[];
  description: string;
  /** The option takes a value. */
  takesValue: boolean;
  /** Fixed choices for the value (e.g. stages), if known. */
  values?: readonly string[];
  /** The value is a path. */
  path?: boolean;
}

export interface CompletionCommand {
  name: string;
  description: string;
  options: CompletionOption[];
  /** What the first positional argument is: a task id (completed from `gantry ls`), fixed words, or free text. */
  arg: { kind: 'task' } | { kind: 'words'; words: readonly string[] } | { kind: 'none' };
}


const TASK_IDS = `gantry ls --json --limit 200 2>/dev/null | grep -o '"id": *"t-[^"]*"' | sed 's/.*"\\(t-[^"]*\\)"/\\1/'`;
const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function bashScript(cmds: readonly CompletionCommand[]): string {
  const names = cmds.map((c) => c.name).join(' ');
  const optCases = cmds.map((c) => `    ${c.name}) opts=${shq(c.options.flatMap((o) => o.names).join(' '))} ;;`).join('\n');
  const valueCases: string[] = [];
  const free: string[] = [];
  for (const c of cmds) {
    for (const o of c.options) {
      if (!o.takesValue) continue;
      const pattern = o.names.map((n) => `${c.name}:${n}`).join('|');
      if (o.values) valueCases.push(`    ${pattern}) COMPREPLY=( $(compgen -W ${shq(o.values.join(' '))} -- "$cur") ); return ;;`);
      else if (o.path) valueCases.push(`    ${pattern}) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;`);
      else free.push(pattern);
    }
  }
  if (free.length) valueCases.push(`    ${free.join('|')}) COMPREPLY=(); return ;;`);
  const argCases = cmds
    .filter((c) => c.arg.kind !== 'none')
    .map((c) => (c.arg.kind === 'task' ? `    ${c.name}) COMPREPLY=( $(compgen -W "$(_gantry_task_ids)" -- "$cur") ) ;;` : `    ${c.name}) COMPREPLY=( $(compgen -W ${shq((c.arg as { words: readonly string[] }).words.join(' '))} -- "$cur") ) ;;`))
    .join('\n');
  return `# bash completion for gantry. Load it with:  source <(gantry completion bash)
# or install it:  gantry completion bash > ~/.local/share/bash-completion/completions/gantry
_gantry_task_ids() {
  ${TASK_IDS}
}

_gantry() {
  local cur prev cmd="" i opts=""
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=( $(compgen -W ${shq(`${names} --help --version`)} -- "$cur") )
    return
  fi
  case "$cmd:$prev" in
${valueCases.join('\n')}
  esac
  case "$cmd" in
${optCases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts --help" -- "$cur") )
    return
  fi
  case "$cmd" in
${argCases}
  esac
}

complete -F _gantry gantry
`;
}

const zq = (s: string): string => s.replace(/\\/g, '\\\\').replace(/'/g, `'\\''`).replace(/[[\]:]/g, (m) => `\\${m}`);

export function zshScript(cmds: readonly CompletionCommand[]): string {
  const list = cmds.map((c) => `    '${c.name}:${zq(c.description)}'`).join('\n');
  const cases = cmds
    .map((c) => {
      const fixed = c.options.map((o) => {
        const value = o.takesValue ? (o.values ? `:value:(${o.values.join(' ')})` : o.path ? ':path:_files' : ':value: ') : '';
        const tail = `[${zq(o.description)}]${value}`;
        return o.names.length > 1 ? `'(${o.names.join(' ')})'{${o.names.join(',')}}'${tail}'` : `'${o.names[0]}${tail}'`;
      });
      if (c.arg.kind === 'task') fixed.push("'1:task:_gantry_task_ids'");
      if (c.arg.kind === 'words') fixed.push(`'1:${c.name}:(${c.arg.words.join(' ')})'`);
      return `      ${c.name})\n        _arguments -s ${fixed.join(' \\\n          ')}\n        ;;`;
    })
    .join('\n');
  return `#compdef gantry
# zsh completion for gantry. Load it with:  source <(gantry completion zsh)
# or install it as _gantry in a directory on $fpath.
_gantry_task_ids() {
  local -a ids
  ids=(\${(f)"$(${TASK_IDS})"})
  compadd -a ids
}

_gantry() {
  local curcontext="$curcontext" state line
  local -a commands
  commands=(
${list}
  )
  _arguments -C '(- *)'{-h,--help}'[show help]' '(- *)'{-v,--version}'[show the version]' '1:command:->command' '*::arg:->args'
  case $state in
    command)
      _describe -t commands 'gantry command' commands
      ;;
    args)
      case $line[1] in
${cases}
      esac
      ;;
  esac
}

if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  _gantry "$@"
else
  compdef _gantry gantry
fi
`;
}

const fq = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function fishScript(cmds: readonly CompletionCommand[]): string {
  const lines: string[] = [];
  for (const c of cmds) {
    lines.push(`complete -c gantry -n __fish_use_subcommand -a ${c.name} -d ${fq(c.description)}`);
    const when = `-n '__fish_seen_subcommand_from ${c.name}'`;
    for (const o of c.options) {
      const flags = o.names.map((n) => (n.startsWith('--') ? `-l ${n.slice(2)}` : `-s ${n.slice(1)}`)).join(' ');
      const value = !o.takesValue ? '' : o.values ? ` -x -a ${fq(o.values.join(' '))}` : o.path ? ' -r -F' : ' -x';
      lines.push(`complete -c gantry ${when} ${flags}${value} -d ${fq(o.description)}`);
    }
    if (c.arg.kind === 'task') lines.push(`complete -c gantry ${when} -x -a '(__gantry_task_ids)'`);
    if (c.arg.kind === 'words') lines.push(`complete -c gantry ${when} -x -a ${fq(c.arg.words.join(' '))}`);
  }
  return `# fish completion for gantry. Load it with:  gantry completion fish | source
# or install it:  gantry completion fish > ~/.config/fish/completions/gantry.fish
function __gantry_task_ids
    command -q gantry; or return
    ${TASK_IDS}
end

complete -c gantry -f
complete -c gantry -n __fish_use_subcommand -s h -l help -d 'show help'
complete -c gantry -n __fish_use_subcommand -s v -l version -d 'show the version'
${lines.join('\n')}
`;
}
