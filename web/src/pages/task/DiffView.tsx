// A workspace diff (against base, or between two checkpoints): the files, then the patch.
import { useEffect, useState } from 'react';
import type { Task, WorkspaceDiff } from '../../api/types.js';
import { useSession } from '../../live/context.js';

export type DiffRange = { from: string | number; to: string | number; label: string };

export function DiffView({ task, range, onClose }: { task: Task; range: DiffRange; onClose?: () => void }) {
  const { api } = useSession();
  const [diff, setDiff] = useState<WorkspaceDiff | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setDiff(null);
    api.diff(task.id, range.from, range.to).then(setDiff, (e: unknown) => setError((e as Error).message));
  }, [api, task.id, range.from, range.to]);
  return (
    <div className="diff" data-testid="diff">
      <div className="diff-head">
        <strong>Diff {range.label}</strong>
        {onClose && (
          <button type="button" className="ghost" onClick={onClose} aria-label="Close diff">
            ✕
          </button>
        )}
      </div>
      {error && <p className="error">{error}</p>}
      {!diff && !error && <p className="muted">Loading…</p>}
      {diff && diff.files.length === 0 && <p className="muted">No changes.</p>}
      {diff && diff.files.length > 0 && (
        <>
          <ul className="diff-files">
            {diff.files.map((f) => (
              <li key={f.path}>
                <span className={`fs fs-${f.status}`}>{f.status}</span> <code>{f.path}</code> <span className="add">+{f.added ?? '?'}</span> <span className="del">−{f.removed ?? '?'}</span>
              </li>
            ))}
          </ul>
          <pre className="patch">
            {diff.patch.split('\n').map((l, i) => (
              <span key={i} className={l.startsWith('+') && !l.startsWith('+++') ? 'add' : l.startsWith('-') && !l.startsWith('---') ? 'del' : l.startsWith('@@') ? 'hunk' : undefined}>
                {l}
                {'\n'}
              </span>
            ))}
          </pre>
          {diff.truncated && <p className="muted">The patch was cut short; fetch it with the CLI for the rest.</p>}
        </>
      )}
    </div>
  );
}
