// Each project's reactions and thresholds, parsed from its gantry.yaml `reactions:` section and
// cached briefly so the observation pipeline does not re-validate config on every signal.
import { reactionsSchema, resolveReactions, type ResolvedReactions } from '../config/reactions.js';
import type { SessionRepo } from '../ports/lifecycle.js';

const TTL_MS = 5000;

export class ProjectPolicies {
  private readonly cache = new Map<string, { at: number; value: ResolvedReactions }>();
  private readonly defaults = resolveReactions(undefined);
  private readonly warned = new Set<string>();

  constructor(
    private readonly sessions: SessionRepo,
    private readonly now: () => number,
    private readonly override?: (projectId: string | null) => ResolvedReactions | undefined,
  ) {}

  async forProject(projectId: string | null): Promise<ResolvedReactions> {
    const o = this.override?.(projectId);
    if (o) return o;
    if (!projectId) return this.defaults;
    const hit = this.cache.get(projectId);
    const now = this.now();
    if (hit && now - hit.at < TTL_MS) return hit.value;
    const raw = await this.sessions.projectReactions(projectId);
    const parsed = reactionsSchema.safeParse(raw ?? {});
    let value = this.defaults;
    if (parsed.success) value = resolveReactions(parsed.data);
    else if (!this.warned.has(projectId)) {
      // gantry.yaml is validated when loaded; a bad stored section falls back to defaults, loudly.
      this.warned.add(projectId);
      process.emitWarning(`project ${projectId}: invalid reactions config, using defaults: ${parsed.error.issues[0]?.message ?? ''}`);
    }
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(projectId, { at: now, value });
    return value;
  }
}
