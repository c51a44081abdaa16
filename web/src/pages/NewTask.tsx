// "New task" from the board: every field POST /api/tasks takes, validated by the API itself so the
// messages are the ones the CLI and API users see. Opened with the button or the `n` key.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError } from '../api/client.js';
import type { NewTaskOptions } from '../api/types.js';
import { useSession } from '../live/context.js';
import { EMPTY_FORM, fieldOfError, submitBody, type FormField, type NewTaskForm } from '../model/new-task.js';
import { Markdown } from '../ui/Markdown.js';
import { navigate } from '../ui/router.js';

export function NewTaskDialog({ onClose }: { onClose(): void }) {
  const { api, live } = useSession();
  const ref = useRef<HTMLDialogElement>(null);
  const [opts, setOpts] = useState<NewTaskOptions | null>(null);
  const [form, setForm] = useState<NewTaskForm>(EMPTY_FORM);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; hint: string | null; fields: FormField[] } | null>(null);
  const [preview, setPreview] = useState(false);

  useEffect(() => {
    const d = ref.current!;
    if (!d.open) d.showModal();
    const onCancel = (e: Event) => {
      e.preventDefault();
      onClose();
    };
    d.addEventListener('cancel', onCancel);
    return () => d.removeEventListener('cancel', onCancel);
  }, [onClose]);
  useEffect(() => {
    api.newTaskOptions().then(
      (o) => {
        setOpts(o);
        setForm((f) => (f.project || !o.projects[0] ? f : { ...f, project: o.projects[0].id }));
      },
      (e: unknown) => setError({ message: (e as Error).message, hint: null, fields: [] }),
    );
  }, [api]);

  const set = (k: FormField) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [k]: e.target.value, ...(k === 'project' ? { pipeline: '' } : {}) }));
  const project = opts?.projects.find((p) => p.id === form.project) ?? null;
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const task = await api.submit(submitBody(form) as never);
      live.refreshTask(task.id);
      onClose();
      navigate(`/tasks/${encodeURIComponent(task.id)}`);
    } catch (e) {
      setError(
        e instanceof ApiError
          ? { message: e.message, hint: e.hint, fields: e.fields.map(fieldOfError).filter((f): f is FormField => f !== null) }
          : { message: String((e as Error).message), hint: null, fields: [] },
      );
      setBusy(false);
    }
  };
  const field = (k: FormField, label: string, control: ReactNode, help?: string) => (
    <label className={`field${error?.fields.includes(k) ? ' invalid' : ''}`} data-field={k}>
      <span>{label}</span>
      {control}
      {help && <small className="muted">{help}</small>}
    </label>
  );
  const invalid = (k: FormField) => (error?.fields.includes(k) ? { 'aria-invalid': true as const, 'aria-describedby': 'new-task-error' } : {});

  return (
    <dialog ref={ref} className="confirm new-task" aria-labelledby="new-task-title">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <h2 id="new-task-title">New task</h2>
        {field('title', 'Title', <input autoFocus value={form.title} onChange={set('title')} placeholder="Fix the flaky login test" {...invalid('title')} />)}
        <div className={`field${error?.fields.includes('body') ? ' invalid' : ''}`} data-field="body">
          <span className="field-head">
            <label htmlFor="new-task-body">Brief (Markdown)</label>
            <button type="button" className="ghost small" aria-pressed={preview} onClick={() => setPreview((p) => !p)}>
              {preview ? 'Edit' : 'Preview'}
            </button>
          </span>
          {preview ? (
            <div className="md-preview" data-testid="brief-preview">
              {form.body.trim() ? <Markdown text={form.body} /> : <p className="muted">Nothing to preview.</p>}
            </div>
          ) : (
            <textarea id="new-task-body" rows={6} value={form.body} onChange={set('body')} placeholder="What to do, acceptance criteria, links…" {...invalid('body')} />
          )}
        </div>
        <div className="field-row">
          {field(
            'project',
            'Project',
            <select value={form.project} onChange={set('project')} {...invalid('project')}>
              {!opts?.projects.length && <option value="">No projects registered</option>}
              {opts?.projects.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>,
          )}
          {field(
            'pipeline',
            'Pipeline',
            <select value={form.pipeline} onChange={set('pipeline')} {...invalid('pipeline')}>
              <option value="">{project ? `Default (${project.defaultPipeline})` : 'Default'}</option>
              {project?.pipelines.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>,
          )}
          {field(
            'agent',
            'Agent',
            <select value={form.agent} onChange={set('agent')} {...invalid('agent')}>
              <option value="">{project ? `Default (${project.defaultAgent})` : 'Default'}</option>
              {opts?.agents.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>,
          )}
          {field('priority', 'Priority', <input inputMode="numeric" value={form.priority} onChange={set('priority')} placeholder="0" {...invalid('priority')} />, '−100 … 100, higher first')}
        </div>
        <div className="field-row">
          {field('after', 'After', <input value={form.after} onChange={set('after')} placeholder="task ids" {...invalid('after')} />, 'Starts once these ship')}
          {field('capabilities', 'Capabilities', <input value={form.capabilities} onChange={set('capabilities')} placeholder="gpu, linux" {...invalid('capabilities')} />, 'Only factories with all of them claim it')}
        </div>
        {error && (
          <p className="error" role="alert" id="new-task-error">
            {error.message}
            {error.hint && <span className="muted"> — {error.hint}</span>}
          </p>
        )}
        <div className="confirm-actions">
          <button type="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || !opts}>
            {busy ? 'Submitting…' : 'Create task'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
