// Pure rules of the diff viewer: a workspace patch cut into one chunk per file, the file tree, which
// files open collapsed, grammars by path, where a line comment lands. Table-tested in test/web/diff-model.test.ts.
import type { LineComment } from '../../../../src/domain/pipeline/line-comments.js';
import type { WorkspaceDiff } from '../../api/types.js';

export type DiffEntry = WorkspaceDiff['files'][number];

/** Git's C-style quoting of a path with unusual bytes ("a/t\303\244st.txt") undone, as UTF-8. */
export function unquoteGitPath(s: string): string {
  if (!s.startsWith('"') || !s.endsWith('"') || s.length < 2) return s;
  const bytes: number[] = [];
  const body = s.slice(1, -1);
  const ESC: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 };
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      bytes.push(...new TextEncoder().encode(ch));
      continue;
    }
    const next = body[i + 1] ?? '';
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(ESC[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** The path a `diff --git a/P b/P` header names (renames are off, so both sides are the same path). */
export function headerPath(line: string): string | null {
  if (!line.startsWith('diff --git ')) return null;
  const rest = line.slice('diff --git '.length);
  if (rest.startsWith('"')) {
    // "a/…" "b/…": the first quoted string, closed by a quote no backslash escapes.
    const m = /^"((?:[^"\\]|\\.)*)"/.exec(rest);
    return m ? unquoteGitPath(`"${m[1]!}"`).replace(/^a\//, '') : null;
  }
  if ((rest.length - 5) % 2 !== 0) return null;
  const n = (rest.length - 5) / 2;
  const a = rest.slice(2, 2 + n);
  return rest === `a/${a} b/${a}` ? a : null;
}

/** One chunk of the patch per file path, each starting at its `diff --git` line. */
export function splitPatch(patch: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = patch.split('\n');
  let path: string | null = null;
  let start = 0;
  const flush = (end: number) => {
    if (path !== null) out.set(path, lines.slice(start, end).join('\n').replace(/\n*$/, '\n'));
  };
  lines.forEach((l, i) => {
    const p = headerPath(l);
    if (p === null) return;
    flush(i);
    path = p;
    start = i;
  });
  flush(lines.length);
  return out;
}

/** Whether a chunk has lines to show (a binary file's or a mode change's has none). */
export const hasHunks = (chunk: string | undefined): chunk is string => !!chunk && /^@@ /m.test(chunk);

export type TreeNode = { kind: 'dir'; name: string; path: string; children: TreeNode[] } | { kind: 'file'; name: string; path: string; file: DiffEntry };

/**
 * The changed files as a tree: directories first, then files, by name; a directory with a single
 * subdirectory and nothing else is folded into it ("src/ui/diff"), as code hosts show it.
 */
export function fileTree(files: readonly DiffEntry[]): TreeNode[] {
  type Dir = { dirs: Map<string, Dir>; files: DiffEntry[] };
  const root: Dir = { dirs: new Map(), files: [] };
  for (const f of files) {
    const parts = f.path.split('/');
    let d = root;
    for (const part of parts.slice(0, -1)) {
      let next = d.dirs.get(part);
      if (!next) d.dirs.set(part, (next = { dirs: new Map(), files: [] }));
      d = next;
    }
    d.files.push(f);
  }
  const build = (d: Dir, prefix: string): TreeNode[] => [
    ...[...d.dirs.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, sub]): TreeNode => {
        let label = name;
        let dir = sub;
        while (dir.files.length === 0 && dir.dirs.size === 1) {
          const [[n, only]] = [...dir.dirs.entries()] as [[string, Dir]];
          label = `${label}/${n}`;
          dir = only;
        }
        const path = `${prefix}${label}`;
        return { kind: 'dir', name: label, path, children: build(dir, `${path}/`) };
      }),
    ...[...d.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((f): TreeNode => ({ kind: 'file', name: f.path.slice(prefix.length), path: f.path, file: f })),
  ];
  return build(root, '');
}

/** Files that open collapsed: a huge change (a lockfile, generated code) would bury the rest. */
export const BIG_FILE_LINES = 400;
export function startsCollapsed(f: DiffEntry): boolean {
  return (f.added ?? 0) + (f.removed ?? 0) > BIG_FILE_LINES;
}

/** The Prism (refractor) grammar for a path, by extension or name; null: shown unhighlighted. */
export function languageOf(path: string): string | null {
  const name = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  if (name === 'dockerfile') return 'docker';
  if (name === 'makefile') return 'makefile';
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : '';
  return LANGUAGES[ext] ?? null;
}
const LANGUAGES: Record<string, string> = {
  ts: 'typescript', mts: 'typescript', cts: 'typescript', tsx: 'tsx', js: 'javascript', mjs: 'javascript', cjs: 'javascript', jsx: 'jsx',
  json: 'json', md: 'markdown', markdown: 'markdown', yml: 'yaml', yaml: 'yaml', toml: 'toml', ini: 'ini',
  sh: 'bash', bash: 'bash', zsh: 'bash', css: 'css', scss: 'scss', sass: 'sass', less: 'less',
  html: 'markup', htm: 'markup', xml: 'markup', svg: 'markup', py: 'python', go: 'go', rs: 'rust', java: 'java', kt: 'kotlin',
  c: 'c', h: 'c', cc: 'cpp', cpp: 'cpp', hpp: 'cpp', cs: 'csharp', rb: 'ruby', php: 'php', sql: 'sql', swift: 'swift', lua: 'lua', r: 'r', pl: 'perl', diff: 'diff', patch: 'diff',
};

/** Where a comment on a diff line lands: a removed line by its old number, any other by its new one. */
export function placeOf(change: { type: 'insert' | 'delete' | 'normal'; lineNumber?: number; oldLineNumber?: number; newLineNumber?: number }): { line: number; side: LineComment['side'] } {
  if (change.type === 'delete') return { line: change.lineNumber!, side: 'old' };
  if (change.type === 'insert') return { line: change.lineNumber!, side: 'new' };
  return { line: change.newLineNumber!, side: 'new' };
}
