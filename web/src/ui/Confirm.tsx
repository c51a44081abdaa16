// Every action a person takes goes through this dialog: what will happen, an optional note, and
// an explicit confirm. Built on <dialog> so focus is trapped and Escape cancels.
import { useEffect, useRef, useState, type ReactNode } from 'react';

export interface ConfirmSpec {
  title: string;
  body: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  /** Ask for text (an answer, a reason, feedback). Required unless `inputOptional`. */
  input?: { label: string; placeholder?: string; multiline?: boolean; optional?: boolean; initial?: string };
  run(text: string): Promise<unknown>;
}

export function ConfirmDialog({ spec, onClose }: { spec: ConfirmSpec; onClose(done: boolean): void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [text, setText] = useState(spec.input?.initial ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const d = ref.current!;
    if (!d.open) d.showModal();
    const onCancel = (e: Event) => {
      e.preventDefault();
      if (!busy) onClose(false);
    };
    d.addEventListener('cancel', onCancel);
    return () => d.removeEventListener('cancel', onCancel);
  }, [busy, onClose]);
  const needsText = spec.input && !spec.input.optional;
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await spec.run(text.trim());
      onClose(true);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  };
  return (
    <dialog ref={ref} className="confirm" aria-labelledby="confirm-title">
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <h2 id="confirm-title">{spec.title}</h2>
        <div className="confirm-body">{spec.body}</div>
        {spec.input && (
          <label className="field">
            <span>{spec.input.label}</span>
            {spec.input.multiline ? (
              <textarea autoFocus rows={spec.input.initial ? 10 : 4} value={text} placeholder={spec.input.placeholder} onChange={(e) => setText(e.target.value)} />
            ) : (
              <input autoFocus value={text} placeholder={spec.input.placeholder} onChange={(e) => setText(e.target.value)} />
            )}
          </label>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="confirm-actions">
          <button type="button" onClick={() => onClose(false)} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className={spec.danger ? 'danger' : 'primary'} disabled={busy || (needsText && !text.trim())} autoFocus={!spec.input}>
            {busy ? 'Working…' : spec.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
