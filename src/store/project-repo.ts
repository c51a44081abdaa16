import { randomBytes } from 'node:crypto';
import { conflict, notFound } from '../domain/errors.js';
import { encodeId } from '../domain/ids.js';
import type { NewProject, Project, ProjectRepo, Store } from '../ports/store.js';
import { toProject } from './rows.js';

export class ProjectRepoSql implements ProjectRepo {
  constructor(private readonly store: Store) {}

  async create(p: NewProject): Promise<Project> {
    const id = encodeId('p', randomBytes(6));
    return this.store.write(async (tx) => {
      const clash = await tx.get('SELECT id FROM projects WHERE name = ?', [p.name]);
      if (clash) throw conflict(`a project named ${p.name} already exists`, 'pick another --name, or use the existing project');
      const row = await tx.get(
        `INSERT INTO projects (id, name, path, remote, default_branch, config, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, NOW_MS, NOW_MS) RETURNING *`,
        [id, p.name, p.path, p.remote ?? p.path, p.defaultBranch, JSON.stringify(p.config)],
      );
      tx.emit({ type: 'project.registered', payload: { projectId: id, name: p.name } });
      return toProject(row!);
    });
  }

  async get(idOrName: string): Promise<Project | undefined> {
    const row = await this.store.db.get('SELECT * FROM projects WHERE id = ? OR name = ?', [idOrName, idOrName]);
    return row ? toProject(row) : undefined;
  }

  async list(): Promise<Project[]> {
    return (await this.store.db.all('SELECT * FROM projects ORDER BY name')).map(toProject);
  }

  async updateConfig(id: string, config: Record<string, unknown>, expectedRev: number): Promise<Project> {
    return this.store.write(async (tx) => {
      const row = await tx.get(
        'UPDATE projects SET config = ?, updated_at = NOW_MS, rev = rev + 1 WHERE id = ? AND rev = ? RETURNING *',
        [JSON.stringify(config), id, expectedRev],
      );
      if (!row) {
        const exists = await tx.get('SELECT rev FROM projects WHERE id = ?', [id]);
        if (!exists) throw notFound('project', id);
        throw conflict(`project ${id} changed meanwhile`, 'reload and try again');
      }
      tx.emit({ type: 'project.config_updated', payload: { projectId: id } });
      return toProject(row);
    });
  }
}
