// The notifications panel: open items, newest first, each with acknowledge and resolve.
import { useEffect, useRef } from 'react';
import { useLive, useSession } from '../live/context.js';
import { ago } from '../ui/format.js';
import { Link } from '../ui/router.js';

export function NotificationsPanel({ onClose }: { onClose(): void }) {
  const { api, live } = useSession();
  const { notifications } = useLive();
  const ref = useRef<HTMLElement>(null);
  const available = live.has('GET /api/notifications');
  useEffect(() => {
    ref.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  const act = (p: Promise<unknown>) => void p.then(() => live.loadNotifications(), () => live.loadNotifications());
  return (
    <aside className="drawer" ref={ref} tabIndex={-1} aria-label="Notifications" data-testid="notifications">
      <header>
        <h2>Notifications</h2>
        <button type="button" className="ghost" onClick={onClose} aria-label="Close notifications">
          ✕
        </button>
      </header>
      {!available ? (
        <p className="muted">This coordinator does not serve notifications.</p>
      ) : notifications.length === 0 ? (
        <p className="muted">All clear. You will be notified here when an agent needs input, gets stuck, or a run fails.</p>
      ) : (
        <ul className="notes">
          {notifications.map((n) => (
            <li key={n.id} className={`note p-${n.priority} n-${n.state}`}>
              <div className="note-title">{n.title}</div>
              <div className="muted">
                {n.kind} · {n.state} · {ago(n.createdAt)}
                {n.taskId && (
                  <>
                    {' · '}
                    <Link href={`/tasks/${encodeURIComponent(n.taskId)}`} onClick={onClose}>
                      {n.taskId}
                    </Link>
                  </>
                )}
              </div>
              <div className="note-actions">
                {n.state !== 'acknowledged' && (
                  <button type="button" onClick={() => act(api.ackNotification(n.id))}>
                    Acknowledge
                  </button>
                )}
                <button type="button" onClick={() => act(api.resolveNotification(n.id))}>
                  Resolve
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
    </aside>
  );
}
