// The shell: sign-in gate, top bar (navigation, live status, notifications), and the page for the path.
import { useEffect, useMemo, useState } from 'react';
import { Api, ApiError } from './api/client.js';
import { SessionContext, useLive, useSession, type Session } from './live/context.js';
import { LiveStore } from './live/store.js';
import { clearToken, readToken, saveToken } from './live/token.js';
import { Board } from './pages/Board.js';
import { Fleet } from './pages/Fleet.js';
import { Login } from './pages/Login.js';
import { NewTaskDialog } from './pages/NewTask.js';
import { NotFound } from './pages/NotFound.js';
import { ProjectPage } from './pages/ProjectPage.js';
import { NotificationsPanel } from './pages/Notifications.js';
import { Settings } from './pages/Settings.js';
import { TaskPage } from './pages/TaskPage.js';
import { Link, usePath } from './ui/router.js';

export function App() {
  const [token, setToken] = useState<string | null>(readToken);
  const [reason, setReason] = useState<string | null>(null);
  const [session, setSession] = useState<Session | null>(null);

  useEffect(() => {
    if (!token) return;
    let cancelled = false;
    const logout = (why: string | null = null) => {
      clearToken();
      setReason(why);
      setToken(null);
      setSession(null);
    };
    const api = new Api(token, () => logout('Your token was rejected. Sign in again.'));
    let live: LiveStore | null = null;
    (async () => {
      try {
        const [who, routes] = await Promise.all([api.whoami(), api.routes()]);
        if (cancelled) return;
        live = new LiveStore(api, routes);
        setSession({ api, live, who, logout: () => logout() });
        await live.start();
      } catch (e) {
        if (!cancelled && !(e instanceof ApiError && e.status === 401)) setReason(`Cannot reach the coordinator: ${(e as Error).message}`);
      }
    })();
    return () => {
      cancelled = true;
      live?.stop();
    };
  }, [token]);

  if (!token) {
    return (
      <Login
        reason={reason}
        onToken={(t) => {
          saveToken(t);
          setReason(null);
          setToken(t);
        }}
      />
    );
  }
  if (!session) return <div className="splash">{reason ?? 'Connecting…'}</div>;
  return (
    <SessionContext.Provider value={session}>
      <Shell />
    </SessionContext.Provider>
  );
}

/** Keys a shortcut must not steal: the person is typing. */
const typing = (t: EventTarget | null): boolean => t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));

function Shell() {
  const path = usePath();
  const [panel, setPanel] = useState(false);
  const [creating, setCreating] = useState(false);
  const page = useMemo(() => {
    const task = /^\/tasks\/([^/]+)\/?$/.exec(path);
    if (task) return <TaskPage id={decodeURIComponent(task[1]!)} />;
    const project = /^\/projects\/([^/]+)\/?$/.exec(path);
    if (project) return <ProjectPage id={decodeURIComponent(project[1]!)} />;
    if (path === '/fleet' || path === '/fleet/') return <Fleet />;
    if (path === '/settings' || path === '/settings/') return <Settings />;
    if (path === '/' || path === '/index.html') return <Board onNew={() => setCreating(true)} />;
    return <NotFound path={path} />;
  }, [path]);
  // `n` opens New task from any page (not while typing, not over another dialog).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'n' || e.metaKey || e.ctrlKey || e.altKey || typing(e.target) || document.querySelector('dialog[open]')) return;
      e.preventDefault();
      setCreating(true);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    <>
      <TopBar path={path} onBell={() => setPanel((p) => !p)} />
      {panel && <NotificationsPanel onClose={() => setPanel(false)} />}
      {creating && <NewTaskDialog onClose={() => setCreating(false)} />}
      <main className="page">{page}</main>
    </>
  );
}

function TopBar({ path, onBell }: { path: string; onBell(): void }) {
  const { who, logout } = useSession();
  const { conn, notifications } = useLive();
  const open = notifications.filter((n) => n.state !== 'resolved').length;
  const nav = (href: string, label: string, active: boolean) => (
    <Link href={href} className={active ? 'active' : undefined} aria-current={active ? 'page' : undefined}>
      {label}
    </Link>
  );
  return (
    <header className="topbar">
      <Link href="/" className="brand">
        <span className="logo" aria-hidden="true" />
        Gantry
      </Link>
      <nav aria-label="Main">
        {nav('/', 'Board', path === '/' || path.startsWith('/tasks'))}
        {nav('/fleet', 'Fleet', path.startsWith('/fleet'))}
        {nav('/settings', 'Settings', path.startsWith('/settings'))}
      </nav>
      <span className={`conn conn-${conn}`} data-testid="conn" title={conn === 'live' ? 'Live: updates arrive as they happen' : 'Reconnecting to the event stream…'}>
        <span className="dot" aria-hidden="true" />
        <span className="conn-label">{conn === 'live' ? 'Live' : conn === 'connecting' ? 'Connecting' : 'Reconnecting'}</span>
      </span>
      <button type="button" className="bell" onClick={onBell} aria-label={`Notifications (${open} open)`} data-testid="bell">
        <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
          <path d="M12 3a6 6 0 0 0-6 6v3.6L4.3 16h15.4L18 12.6V9a6 6 0 0 0-6-6Zm0 18a2.5 2.5 0 0 0 2.4-2h-4.8A2.5 2.5 0 0 0 12 21Z" fill="currentColor" />
        </svg>
        {open > 0 && <span className="badge">{open}</span>}
      </button>
      <button type="button" className="ghost" onClick={logout} title={who.name ? `Signed in as ${who.name} (${who.role})` : undefined}>
        Sign out
      </button>
    </header>
  );
}
