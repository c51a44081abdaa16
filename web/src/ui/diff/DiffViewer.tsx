// The diff viewer (a lazily loaded chunk: the diff library and its highlighter load only when a diff
// is opened): unified/split, collapse per file or all, the file tree, and line comments when given.
import 'react-diff-view/style/index.css';
import './diff.css';
import { useMemo, useState } from 'react';
import type { WorkspaceDiff } from '../../api/types.js';
import { FileDiff, type CommentsProp, type DiffMode } from './FileDiff.js';
import { fileTree, splitPatch, startsCollapsed, type TreeNode } from './patch.js';

export default function DiffViewer({ diff, comments }: { diff: WorkspaceDiff; comments?: CommentsProp }) {
  const chunks = useMemo(() => splitPatch(diff.patch), [diff.patch]);
  const tree = useMemo(() => fileTree(diff.files), [diff.files]);
  const [mode, setMode] = useState<DiffMode>(() => (typeof innerWidth === 'number' && innerWidth < 760 ? 'unified' : 'split'));
  const [collapsed, setCollapsed] = useState<Set<string>>(() => new Set(diff.files.filter(startsCollapsed).map((f) => f.path)));
  const toggle = (path: string) =>
    setCollapsed((s) => {
      const n = new Set(s);
      if (!n.delete(path)) n.add(path);
      return n;
    });
  const reveal = (path: string) => {
    setCollapsed((s) => {
      const n = new Set(s);
      n.delete(path);
      return n;
    });
    requestAnimationFrame(() => document.querySelector(`[data-file="${CSS.escape(path)}"]`)?.scrollIntoView({ block: 'start', behavior: 'smooth' }));
  };
  return (
    <div className="diff-viewer" data-mode={mode}>
      <div className="diff-toolbar" role="toolbar" aria-label="Diff view">
        <div className="seg" role="group" aria-label="Layout">
          {(['unified', 'split'] as const).map((m) => (
            <button key={m} type="button" className="small" aria-pressed={mode === m} onClick={() => setMode(m)}>
              {m === 'unified' ? 'Unified' : 'Split'}
            </button>
          ))}
        </div>
        <button type="button" className="small" onClick={() => setCollapsed(new Set(collapsed.size === diff.files.length ? [] : diff.files.map((f) => f.path)))}>
          {collapsed.size === diff.files.length ? 'Expand all' : 'Collapse all'}
        </button>
        {comments && <span className="muted diff-hint">Press a line number to comment on that line.</span>}
      </div>
      <div className="diff-body">
        <nav className="diff-tree" aria-label="Changed files">
          <Tree nodes={tree} onPick={reveal} />
        </nav>
        <div className="diff-files-list">
          {diff.files.map((f) => (
            <FileDiff key={f.path} file={f} chunk={chunks.get(f.path)} mode={mode} collapsed={collapsed.has(f.path)} onToggle={() => toggle(f.path)} {...(comments ? { comments } : {})} />
          ))}
        </div>
      </div>
    </div>
  );
}

function Tree({ nodes, onPick }: { nodes: TreeNode[]; onPick(path: string): void }) {
  return (
    <ul>
      {nodes.map((n) =>
        n.kind === 'dir' ? (
          <li key={n.path} className="tree-dir">
            <span className="tree-dir-name">{n.name}/</span>
            <Tree nodes={n.children} onPick={onPick} />
          </li>
        ) : (
          <li key={n.path}>
            <button type="button" className="tree-file" onClick={() => onPick(n.path)} title={n.path}>
              <span className={`fs-dot fs-${n.file.status}`} aria-hidden="true" />
              {n.name} <span className="add">+{n.file.added ?? '?'}</span> <span className="del">−{n.file.removed ?? '?'}</span>
            </button>
          </li>
        ),
      )}
    </ul>
  );
}
