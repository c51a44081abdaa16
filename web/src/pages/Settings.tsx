// The effective configuration of each project (gantry.yaml as the coordinator parsed it).
import { useEffect, useState } from 'react';
import type { Project } from '../api/types.js';
import { useSession } from '../live/context.js';
import { ConfirmDialog, type ConfirmSpec } from '../ui/Confirm.js';
import { ago } from '../ui/format.js';

export function Settings() {
  const { api, who, live } = useSession();
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [spec, setSpec] = useState<ConfirmSpec | null>(null);
  const load = () => api.projects().then(setProjects, (e: unknown) => setError((e as Error).message));
  useEffect(() => {
    void load();
    return live.onEvent((e) => {
      if (e.type.startsWith('project.')) void load();
    });
  }, [api, live]);
  return (
    <div className="settings-page">
      <div className="toolbar">
        <h1>Settings</h1>
        <span className="muted">
          Signed in as {who.name ?? 'unknown'} ({who.role ?? '?'})
        </span>
      </div>
      {error && <p className="error">{error}</p>}
      {projects?.length === 0 && (
        <div className="empty">
          <h2>No projects</h2>
          <p>
            Run <code>gantry init</code> in a git repository to register it.
          </p>
        </div>
      )}
      {projects?.map((p) => (
        <section key={p.id} className="panel" data-project={p.name}>
          <h2>{p.name}</h2>
          <dl className="facts inline">
            <div>
              <dt>Path</dt>
              <dd>
                <code>{p.path}</code>
              </dd>
            </div>
            <div>
              <dt>Base branch</dt>
              <dd>{p.defaultBranch}</dd>
            </div>
            <div>
              <dt>Config updated</dt>
              <dd>{ago(p.updatedAt)}</dd>
            </div>
          </dl>
          <h3>Effective configuration</h3>
          <pre className="config">{JSON.stringify(p.config, null, 2)}</pre>
          {who.role !== 'viewer' && (
            <button
              type="button"
              onClick={() =>
                setSpec({
                  title: `Reload ${p.name}'s gantry.yaml?`,
                  body: <p>The coordinator re-reads the file. A file with errors changes nothing and the error is shown here.</p>,
                  confirmLabel: 'Reload',
                  run: () => api.post(`/api/projects/${encodeURIComponent(p.id)}/reload`).then(load),
                })
              }
            >
              Reload gantry.yaml
            </button>
          )}
        </section>
      ))}
      {spec && <ConfirmDialog spec={spec} onClose={() => setSpec(null)} />}
    </div>
  );
}
