// The fleet: alerts, queue metrics, and every factory with its health, load and leases. Refetched
// when a factory or lease event arrives and on a backstop tick (heartbeats emit no events). Between
// fetches a one-second clock ages "last heartbeat" and marks a factory stale the moment its last
// heartbeat falls out of the stale window (judged against the server's clock, not the browser's).
import { useEffect, useState, type ReactNode } from 'react';
import type { Factory, FleetMetrics, Quarantine } from '../api/types.js';
import { useLive, useSession } from '../live/context.js';
import { ConfirmDialog, type ConfirmSpec } from '../ui/Confirm.js';
import { ago, duration } from '../ui/format.js';
import { Link } from '../ui/router.js';
import { factoryState } from '../model/fleet.js';

interface FleetData {
  factories: Factory[];
  quarantined: Quarantine[];
  staleMs: number;
  metrics: FleetMetrics | null;
  /** Server time minus browser time when fetched. */
  skew: number;
}


export function Fleet() {
  const { api, live, who } = useSession();
  const { fleetTick } = useLive();
  const [data, setData] = useState<FleetData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const [clock, setClock] = useState(Date.now());
  const [spec, setSpec] = useState<ConfirmSpec | null>(null);
  const available = live.has('GET /api/fleet/factories');
  const backstopMs = Math.max(1000, Math.min(10_000, Math.floor((data?.staleMs ?? 30_000) / 3)));

  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), backstopMs);
    return () => clearInterval(t);
  }, [backstopMs]);
  useEffect(() => {
    const t = setInterval(() => setClock(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  useEffect(() => {
    if (!available) return;
    let cancelled = false;
    const asked = Date.now();
    Promise.all([api.factories(), live.has('GET /api/fleet/metrics') ? api.metrics() : Promise.resolve(null)]).then(
      ([f, metrics]) => {
        if (cancelled) return;
        const got = Date.now();
        setData({ ...f, metrics, skew: metrics ? metrics.at - (asked + got) / 2 : 0 });
        setClock(got);
        setError(null);
      },
      (e: unknown) => !cancelled && setError((e as Error).message),
    );
    return () => {
      cancelled = true;
    };
  }, [api, live, available, fleetTick, tick]);

  if (!available) {
    return (
      <div className="empty">
        <h2>Fleet</h2>
        <p>This coordinator does not serve the fleet API.</p>
      </div>
    );
  }
  if (!data) return <p className="muted">{error ? `Could not load the fleet: ${error}` : 'Loading the fleet…'}</p>;
  const m = data.metrics;
  const drain = (f: Factory) =>
    setSpec({
      title: `${f.drain ? 'Resume' : 'Drain'} ${f.name}?`,
      body: <p>{f.drain ? 'The factory starts claiming tasks again at its next heartbeat.' : 'The factory finishes what it holds and stops claiming new tasks from its next heartbeat.'}</p>,
      confirmLabel: f.drain ? 'Resume' : 'Drain',
      run: () => api.drain(f.id, !f.drain),
    });
  return (
    <div className="fleet-page">
      <div className="toolbar">
        <h1>Fleet</h1>
        {error && <span className="error">Refresh failed: {error}</span>}
      </div>
      {m && m.alerts.length > 0 && (
        <ul className="alerts" data-testid="alerts">
          {m.alerts.map((a) => (
            <li key={a.kind} className="banner bad">
              <strong>{a.kind.replace(/_/g, ' ')}</strong> {a.message}
            </li>
          ))}
        </ul>
      )}
      {m && (
        <div className="metrics" data-testid="metrics">
          <Metric label="Queued" value={m.queueDepth} />
          <Metric label="Oldest queued" value={m.oldestQueuedAgeMs === null ? '—' : duration(m.oldestQueuedAgeMs)} />
          <Metric label="Seats in use" value={`${m.seats.used} / ${m.seats.total}`} />
          <Metric label="Factories live" value={`${m.factories.live} / ${m.factories.total}`} />
          <Metric label="Stale" value={m.factories.stale} tone={m.factories.stale ? 'bad' : undefined} />
          <Metric label="Draining" value={m.factories.draining} />
        </div>
      )}
      {m && (
        <div className="stage-bar" aria-label="Tasks by stage">
          {Object.entries(m.stages)
            .filter(([, n]) => n)
            .map(([s, n]) => (
              <span key={s} className={`stage-chip s-${s}`}>
                {s.replace('_', ' ')} {n}
              </span>
            ))}
        </div>
      )}
      <section className="panel">
        <h2>Factories</h2>
        {data.factories.length === 0 ? (
          <p className="muted">
            No factory has joined. <code>gantry up</code> runs one in-process; add machines with <code>gantry factory --url … --token …</code>.
          </p>
        ) : (
          <div className="table-wrap">
            <table className="factories" data-testid="factories">
              <thead>
                <tr>
                  <th>Factory</th>
                  <th>State</th>
                  <th>Last heartbeat</th>
                  <th>Load</th>
                  <th>Leases</th>
                  <th>Capabilities</th>
                  {who.role === 'admin' && <th aria-label="Actions" />}
                </tr>
              </thead>
              <tbody>
                {data.factories.map((f) => {
                  const state = factoryState(f, data.staleMs, clock + data.skew);
                  return (
                    <tr key={f.id} data-factory={f.name} data-state={state}>
                      <td data-label="Factory">
                        <strong>{f.name}</strong>
                        <br />
                        <code className="muted">{f.id}</code>
                      </td>
                      <td data-label="State">
                        <span className={`chip f-${state}`}>{state}</span>
                      </td>
                      <td data-label="Last heartbeat">{ago(f.lastHeartbeatAt, clock + data.skew)}</td>
                      <td data-label="Load">
                        {f.leases.length} / {f.slots} slots
                        {loadText(f.load) && <div className="muted">{loadText(f.load)}</div>}
                      </td>
                      <td data-label="Leases">
                        {f.leases.length === 0
                          ? '—'
                          : f.leases.map((l) => (
                              <div key={l.taskId}>
                                <Link href={`/tasks/${encodeURIComponent(l.taskId)}`}>{l.taskId}</Link> <span className="muted">{l.stage} · e{l.epoch}</span>
                              </div>
                            ))}
                      </td>
                      <td data-label="Capabilities">{f.capabilities.join(', ') || '—'}</td>
                      {who.role === 'admin' && (
                        <td data-label="Actions">
                          <button type="button" onClick={() => drain(f)}>
                            {f.drain ? 'Resume' : 'Drain'}
                          </button>
                        </td>
                      )}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {data.quarantined.length > 0 && (
        <section className="panel">
          <h2>Quarantined results</h2>
          <ul>
            {data.quarantined.map((q) => (
              <li key={`${q.taskId}-${q.epoch}`}>
                <Link href={`/tasks/${encodeURIComponent(q.taskId)}`}>{q.taskId}</Link> epoch {q.epoch} on {q.factoryId}: {q.reason}
              </li>
            ))}
          </ul>
        </section>
      )}
      {spec && <ConfirmDialog spec={spec} onClose={() => setSpec(null)} />}
    </div>
  );
}

function Metric({ label, value, tone }: { label: string; value: ReactNode; tone?: 'bad' | undefined }) {
  return (
    <div className={`metric${tone ? ` ${tone}` : ''}`}>
      <span className="metric-value">{value}</span>
      <span className="metric-label">{label}</span>
    </div>
  );
}

function loadText(load: Record<string, unknown>): string {
  return Object.entries(load)
    .filter(([, v]) => typeof v === 'number' || typeof v === 'string')
    .slice(0, 3)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? Math.round(v * 100) / 100 : v}`)
    .join(' · ');
}
