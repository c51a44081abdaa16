// Checkpoints of the task's workspace, the diff (against base, or between two checkpoints) and
// rollback to any checkpoint, after a safety checkpoint of the current state.
import { useCallback, useEffect, useState } from 'react';
import type { Checkpoint, GantryEvent, Task } from '../../api/types.js';
import { useSession } from '../../live/context.js';
import { ConfirmDialog, type ConfirmSpec } from '../../ui/Confirm.js';
import { ago } from '../../ui/format.js';
import { CompareCheckpoints } from './CompareCheckpoints.js';
import { DiffView, type DiffRange } from './DiffView.js';

type Range = DiffRange;

export function Checkpoints({ task, events }: { task: Task; events: GantryEvent[] | null }) {
  const { api, live } = useSession();
  const [list, setList] = useState<Checkpoint[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [range, setRange] = useState<Range | null>(null);
  const [spec, setSpec] = useState<ConfirmSpec | null>(null);
  const available = live.has('GET /api/tasks/{id}/checkpoints');
  const canDiff = live.has('GET /api/tasks/{id}/diff');
  const canRollback = live.has('POST /api/tasks/{id}/rollback');
  const cpEvents = (events ?? []).filter((e) => e.type.startsWith('checkpoint.') || e.type.startsWith('workspace.')).length;

  const reload = useCallback(() => {
    api.checkpoints(task.id).then(
      (l) => {
        setList(l);
        setError(null);
      },
      (e: unknown) => setError((e as Error).message),
    );
  }, [api, task.id]);
  useEffect(() => {
    if (available) reload();
  }, [available, reload, cpEvents]);
  if (!available) return null;

  const rollback = (c: Checkpoint) =>
    setSpec({
      title: `Roll back to checkpoint #${c.seq}?`,
      body: (
        <p>
          The workspace goes back to checkpoint #{c.seq}
          {c.step ? ` (after ${c.step})` : ''}. The current state is saved first as a new checkpoint, so this can be undone.
        </p>
      ),
      confirmLabel: 'Roll back',
      danger: true,
      run: async () => {
        const r = await api.rollback(task.id, c.seq);
        reload();
        setRange({ from: r.safety.seq, to: c.seq, label: `rollback: #${r.safety.seq} (safety) → #${c.seq}` });
      },
    });

  return (
    <section className="panel" aria-labelledby="cp-title" data-testid="checkpoints">
      <h2 id="cp-title">Checkpoints</h2>
      {error && <p className="error">{error}</p>}
      {list === null ? (
        <p className="muted">Loading…</p>
      ) : list.length === 0 ? (
        <p className="muted">No checkpoints yet. One is taken at every step boundary and while an agent works.</p>
      ) : (
        <div className="table-wrap">
          <table className="cp-table">
            <thead>
              <tr>
                <th>#</th>
                <th>Step</th>
                <th>Changes</th>
                <th>Taken</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {[...list].reverse().map((c, i, arr) => {
                const prev = arr[i + 1];
                return (
                  <tr key={c.id} data-checkpoint={c.seq}>
                    <td>
                      <code title={c.sha}>#{c.seq}</code>
                    </td>
                    <td>
                      {c.step ?? '—'} <span className="muted">{c.reason}</span>
                    </td>
                    <td>
                      {c.filesChanged} files <span className="add">+{c.linesAdded}</span> <span className="del">−{c.linesRemoved}</span>
                    </td>
                    <td>{ago(c.createdAt)}</td>
                    <td className="cp-actions">
                      {canDiff && (
                        <button type="button" onClick={() => setRange({ from: prev ? prev.seq : 'base', to: c.seq, label: `${prev ? `#${prev.seq}` : 'base'} → #${c.seq}` })}>
                          Diff
                        </button>
                      )}
                      {canDiff && (
                        <button type="button" onClick={() => setRange({ from: 'base', to: c.seq, label: `base → #${c.seq}` })}>
                          vs base
                        </button>
                      )}
                      {canRollback && (
                        <button type="button" className="danger-outline" data-rollback={c.seq} onClick={() => rollback(c)}>
                          Roll back
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {canDiff && list && list.length > 0 && <CompareCheckpoints key={list.length} list={list} onCompare={setRange} />}
      {canDiff && list && list.length > 0 && !range && (
        <button type="button" onClick={() => setRange({ from: 'base', to: 'latest', label: 'base → latest' })}>
          Show all changes (base → latest)
        </button>
      )}
      {range && <DiffView task={task} range={range} onClose={() => setRange(null)} />}
      {spec && <ConfirmDialog spec={spec} onClose={() => setSpec(null)} />}
    </section>
  );
}
