// The GitHub SCM adapter (DESIGN §9, `scm.adapter: github`): a change is a pull request. Gantry pushes
// the task branch (its own push, with the token in an HTTP header scoped to the remote, never in a
// URL or argv), opens or reuses the PR, and merges it through the API with the expected head SHA —
// GitHub then enforces branch protection and the compare-and-set on the head. A stale head (409) is
// the engine's lost-race path; a refusal by branch protection (405) is a `forge_refused` error the
// merge step parks on. Mergeability (with the conflicting files a resolver needs) is computed in the
// factory's mirror, like the git-remote adapter, against the base just fetched.
//
// The token comes from GANTRY_GITHUB_TOKEN / GITHUB_TOKEN or `scm.github.tokenFile`; it is redacted
// from every error this file throws, so it reaches no event, log or report.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { Octokit } from '@octokit/rest';
import { githubConfigSchema, type GitHubConfig } from '../config/scm.js';
import { conflict, GantryError } from '../domain/errors.js';
import { hostedVerdict, pullState, repoFromRemote, reviewVerdict, type HostedVerdict, type ReviewVerdict } from '../domain/forge/verdicts.js';
import { changeClosedError, foreignPushError, type PullSnapshot } from '../domain/forge/pr-state.js';
import type { Change, ChangeState, Mergeability, ReviewWait, ReviewWaitResult, Scm } from '../ports/engine.js';
import { awaitReview } from './forge-review.js';
import type { IssueFacts } from '../domain/forge/intake.js';
import { realClock, type HostedClock } from './clock.js';
import type { Mirror } from '../workspace/mirror.js';
import { git as hardened, hardenedEnvFor } from '../workspace/git.js';
import { describeIssues } from '../config/zod-errors.js';
import { MERGE_TREE_ARGS, mergeTreeVerdict } from './merge-tree.js';

const ANY = Array.from({ length: 255 }, (_, i) => i + 1);

/** What a forge adds to the Scm port: hosted CI and reviews on a change's head (the hosted-checks provider and review gate read these). */
export interface ForgeScm extends Scm {
  readonly forge: string;
  /** owner/name on the forge (a poll's webhook wake matches it). */
  readonly repo?: string;
  hostedChecks(c: Change, headSha: string, required?: readonly string[]): Promise<HostedVerdict>;
  reviews(c: Change): Promise<ReviewVerdict>;
  /** The pull request's state, mergeability and head (the change axis reads it). */
  pullFacts(c: Change): Promise<PullSnapshot & { url: string }>;
  /** The task branch's pull request (open, else the last closed), or null. */
  changeOf(taskId: string, branch: string, base: string): Promise<Change | null>;
}

export const isForge = (s: Scm): s is ForgeScm => typeof (s as Partial<ForgeScm>).hostedChecks === 'function';

/** The token: environment first (GANTRY_GITHUB_TOKEN, then GITHUB_TOKEN), else the file `tokenFile` names. */
export function githubToken(cfg: Pick<GitHubConfig, 'tokenFile'>, env: NodeJS.ProcessEnv = process.env, base = process.cwd()): string {
  const fromEnv = env.GANTRY_GITHUB_TOKEN || env.GITHUB_TOKEN;
  if (fromEnv) return fromEnv.trim();
  if (cfg.tokenFile) {
    const f = cfg.tokenFile.startsWith('~/') ? join(homedir(), cfg.tokenFile.slice(2)) : isAbsolute(cfg.tokenFile) ? cfg.tokenFile : join(base, cfg.tokenFile);
    let text: string;
    try {
      text = readFileSync(f, 'utf8').trim();
    } catch (e) {
      throw new GantryError('validation', `scm.github.tokenFile: cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { field: 'scm.github.tokenFile', hint: 'name a readable file holding only the token' });
    }
    if (text) return text;
  }
  throw new GantryError('validation', 'the GitHub adapter has no token', {
    field: 'scm.github',
    hint: 'set GANTRY_GITHUB_TOKEN or GITHUB_TOKEN for the factory, or name a file holding it with scm.github.tokenFile (never the token itself in gantry.yaml)',
  });
}

/** The adapter's settings from a project's raw `scm.github` (validated here too: a project row may predate the schema). */
export function githubSettings(raw: unknown, remote: string): GitHubConfig & { repo: string } {
  const r = githubConfigSchema.safeParse(raw ?? {});
  if (!r.success) {
    const msg = describeIssues(r.error, () => []).map((i) => `scm.github.${i.path}: ${i.message}`).join('\n');
    throw new GantryError('validation', msg, { field: 'scm.github', hint: 'fix scm.github in gantry.yaml (docs/repositories.md)' });
  }
  const repo = r.data.repo ?? repoFromRemote(remote);
  if (!repo) throw new GantryError('validation', `scm.github.repo: cannot tell owner/name from the project remote ${redactUrl(remote)}`, { field: 'scm.github.repo', hint: 'set scm.github.repo: owner/name in gantry.yaml' });
  return { ...r.data, repo };
}

const redactUrl = (u: string): string => u.replace(/\/\/[^/@]*@/, '//***@');

interface HttpErrorish {
  status: number;
  message: string;
}
const httpError = (e: unknown): HttpErrorish | null =>
  typeof e === 'object' && e !== null && typeof (e as { status?: unknown }).status === 'number' ? { status: (e as { status: number }).status, message: String((e as { message?: unknown }).message ?? '') } : null;

export class GitHubScm implements ForgeScm {
  readonly forge = 'github';
  private readonly api: Octokit;
  private readonly owner: string;
  private readonly name: string;

  constructor(
    private readonly mirror: Mirror,
    private readonly cfg: GitHubConfig & { repo: string },
    private readonly token: string,
    private readonly clock: HostedClock = realClock,
    /** Debug lines (no token: messages are scrubbed); silent by default. */
    private readonly debug: (msg: string, fields?: Record<string, unknown>) => void = () => {},
  ) {
    [this.owner, this.name] = cfg.repo.split('/') as [string, string];
    this.api = new Octokit({ auth: token, baseUrl: cfg.apiUrl.replace(/\/$/, ''), userAgent: 'gantry', request: { retries: 0 } });
  }

  /** owner/name on the forge. */
  get repo(): string {
    return this.cfg.repo;
  }

  /** The token never leaves in an error: Octokit and git messages are scrubbed of it. */
  private clean(text: string): string {
    return this.token ? text.split(this.token).join('***') : text;
  }

  private fail(what: string, e: unknown): never {
    if (e instanceof GantryError) throw e;
    const h = httpError(e);
    const msg = this.clean(h ? `${h.status} ${h.message}` : e instanceof Error ? e.message : String(e));
    const code = h?.status === 401 ? 'unauthorized' : h?.status === 403 ? 'forbidden' : h?.status === 404 ? 'not_found' : 'unavailable';
    throw new GantryError(code, `GitHub ${what} (${this.cfg.repo}): ${msg}`, {
      hint: h?.status === 401 ? 'the GitHub token is missing, expired or revoked: set a valid GANTRY_GITHUB_TOKEN' : h?.status === 404 ? `check scm.github.repo and that the token can see ${this.cfg.repo}` : 'check the API is reachable (scm.github.apiUrl), then retry',
    });
  }

  private async call<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      return this.fail(what, e);
    }
  }

  private async pull(c: Change) {
    if (!c.ref) throw new GantryError('internal', `task ${c.taskId} has no pull request yet`, { hint: 'openChange first' });
    return (await this.call('get pull request', () => this.api.rest.pulls.get({ owner: this.owner, repo: this.name, pull_number: Number(c.ref) }))).data;
  }

  /** git with the token as an Authorization header for the remote only (GIT_CONFIG_* env: not in argv, not in a URL). */
  private async authedGit(cwd: string, args: string[]): Promise<{ code: number; out: string }> {
    const base = await hardenedEnvFor(cwd);
    const n = Number(base.GIT_CONFIG_COUNT ?? 0);
    const basic = Buffer.from(`x-access-token:${this.token}`).toString('base64');
    const env = { GIT_CONFIG_COUNT: String(n + 1), [`GIT_CONFIG_KEY_${n}`]: `http.${this.mirror.remote}.extraHeader`, [`GIT_CONFIG_VALUE_${n}`]: `Authorization: Basic ${basic}`, GIT_TERMINAL_PROMPT: '0' };
    const r = await hardened(args, { cwd, env, okCodes: ANY });
    return { code: r.code, out: this.clean(`${r.stdout}\n${r.stderr}`.trim()) };
  }

  async pushBranch(workspace: string, branch: string): Promise<{ headSha: string }> {
    const headSha = (await hardened(['rev-parse', 'HEAD'], { cwd: workspace })).stdout.trim();
    // Each round's push replaces the PR head with the workspace's — but only a head Gantry had: a commit
    // on the branch this repository never saw is someone else's push, refused (the run parks on it)
    // instead of silently overwritten. The lease makes the check and the push one compare-and-set.
    const ls = await this.authedGit(workspace, ['ls-remote', this.mirror.remote, `refs/heads/${branch}`]);
    if (ls.code !== 0) throw new GantryError('unavailable', `reading ${branch} on ${this.cfg.repo} failed: ${ls.out.split('\n').slice(-3).join(' | ')}`, { hint: 'check the remote is reachable and the token can read it' });
    const remoteSha = /^([0-9a-f]{40,64})\s/m.exec(ls.out)?.[1] ?? '';
    // No branch, and this very head was merged through the branch's pull request: GitHub deleted the
    // branch after the merge ("Automatically delete head branches"). Nothing is left to publish — a push
    // would only bring the deleted branch back (the merge step pushes before it records the merge).
    if (!remoteSha && (await this.mergedHeadOrNull(branch)) === headSha) return { headSha };
    if (remoteSha && remoteSha !== headSha) {
      const known = await hardened(['cat-file', '-e', `${remoteSha}^{commit}`], { cwd: workspace, okCodes: ANY });
      if (known.code !== 0) throw foreignPushError(branch, remoteSha);
    }
    const r = await this.authedGit(workspace, ['push', '--porcelain', '--no-verify', `--force-with-lease=refs/heads/${branch}:${remoteSha}`, this.mirror.remote, `HEAD:refs/heads/${branch}`]);
    if (r.code !== 0) {
      // Someone pushed between the look and the push: the same refusal — but only when the lease was
      // stale or the branch really moved. `[remote rejected]` (a pre-receive hook, branch protection, a
      // token without the workflow scope) leaves it where Gantry left it: that is git's own error.
      const again = await this.authedGit(workspace, ['ls-remote', this.mirror.remote, `refs/heads/${branch}`]);
      const now = again.code === 0 ? (/^([0-9a-f]{40,64})\s/m.exec(again.out)?.[1] ?? '') : null;
      if (/stale info/.test(r.out) || (now !== null && now !== remoteSha)) throw foreignPushError(branch, now || 'an unknown commit');
    }
    if (r.code !== 0) {
      // git's reason: the porcelain `!` line ([remote rejected] (…)) and what the server said (`remote:`).
      const lines = r.out.split('\n').map((l) => l.trim());
      const why = lines.filter((l) => /^(!|remote:|error:|fatal:)/.test(l));
      throw new GantryError('bad_request', `pushing ${branch} to ${this.cfg.repo} failed: ${(why.length ? why : lines.slice(-3)).join(' | ').slice(0, 2000)}`, {
        hint: 'the remote refused the push: check the token can push (contents: write; workflow to change .github/workflows), branch protection and push rules on the task branch, then retry',
      });
    }
    return { headSha };
  }

  private bodyOf(taskId: string, title: string, body: string | undefined): string {
    const link = this.cfg.dashboardUrl ? `\n\nDashboard: ${this.cfg.dashboardUrl.replace(/\/$/, '')}/#/tasks/${encodeURIComponent(taskId)}` : '';
    const text = body?.trim() ? `\n\n${body.trim().slice(0, 20_000)}` : '';
    return `Gantry task \`${taskId}\`: ${title}${text}${link}\n\n<!-- gantry-task:${taskId} -->`;
  }

  async openChange(c: { taskId: string; branch: string; base: string; title: string; body?: string }): Promise<Change> {
    const body = this.bodyOf(c.taskId, c.title, c.body);
    // One call for the branch's pull requests, open and closed (a task branch has one, or a few after reopens).
    const all = (await this.call('list pull requests', () => this.api.rest.pulls.list({ owner: this.owner, repo: this.name, head: `${this.owner}:${c.branch}`, state: 'all', per_page: 100 }))).data;
    let number: number;
    let url: string;
    const found = all.find((p) => p.state === 'open');
    if (!found) {
      // No open PR for the branch: a merged one is this task's change (a crash after the merge); one a
      // person closed is a refusal — never routed around by opening another (the run parks on it).
      const last = all.reduce<(typeof all)[number] | undefined>((a, p) => (!a || p.number > a.number ? p : a), undefined);
      if (last?.merged_at) return { taskId: c.taskId, branch: c.branch, base: c.base, ref: String(last.number), url: last.html_url };
      if (last) throw changeClosedError(String(last.number), last.html_url);
    }
    if (found) {
      number = found.number;
      url = found.html_url;
      if (found.title !== c.title || found.body !== body) await this.call('update pull request', () => this.api.rest.pulls.update({ owner: this.owner, repo: this.name, pull_number: number, title: c.title, body }));
    } else {
      const created = (await this.call('open pull request', () => this.api.rest.pulls.create({ owner: this.owner, repo: this.name, head: c.branch, base: c.base, title: c.title, body }))).data;
      number = created.number;
      url = created.html_url;
    }
    const have = new Set((found?.labels ?? []).map((l) => l.name));
    if (this.cfg.labels.some((l) => !have.has(l))) await this.call('label pull request', () => this.api.rest.issues.addLabels({ owner: this.owner, repo: this.name, issue_number: number, labels: this.cfg.labels }));
    return { taskId: c.taskId, branch: c.branch, base: c.base, ref: String(number), url };
  }

  /**
   * `mergedHead`, but a failed look (an outage, the rate limit) is "no merged pull request": the push
   * goes on as it did before the look existed, needing only git. At worst it brings back a branch GitHub
   * deleted after a merge (a stray branch; the merged pull request is still the change), which is less
   * harm than failing every first push while the API is down or rate-limited.
   */
  private async mergedHeadOrNull(branch: string): Promise<string | null> {
    try {
      return await this.mergedHead(branch);
    } catch (e) {
      this.debug('github: could not list the pull requests of a branch before its first push; pushing it', { repo: this.cfg.repo, branch, error: this.clean(e instanceof Error ? e.message : String(e)) });
      return null;
    }
  }

  /** The head the branch's pull request was merged at, when its latest is merged and none is open; else null. */
  private async mergedHead(branch: string): Promise<string | null> {
    const all = (await this.call('list pull requests', () => this.api.rest.pulls.list({ owner: this.owner, repo: this.name, head: `${this.owner}:${branch}`, state: 'all', per_page: 100 }))).data;
    if (all.some((p) => p.state === 'open')) return null;
    const last = all.reduce<(typeof all)[number] | undefined>((a, p) => (!a || p.number > a.number ? p : a), undefined);
    return last?.merged_at ? last.head.sha : null;
  }

  /** The pull request as the change axis sees it (state, mergeability, head); its web page. */
  async pullFacts(c: Change): Promise<PullSnapshot & { url: string }> {
    const p = await this.pull(c);
    return { state: p.state === 'closed' ? 'closed' : 'open', merged: p.merged, mergeable: p.mergeable, headSha: p.head.sha, url: p.html_url };
  }

  /** The task branch's pull request, open or last closed (webhooks name a branch, not a PR); null when there is none. */
  async changeOf(taskId: string, branch: string, base: string): Promise<Change | null> {
    const r = await this.call('list pull requests', () => this.api.rest.pulls.list({ owner: this.owner, repo: this.name, head: `${this.owner}:${branch}`, state: 'all', per_page: 100 }));
    const p = r.data.find((x) => x.state === 'open') ?? r.data.reduce<(typeof r.data)[number] | undefined>((a, x) => (!a || x.number > a.number ? x : a), undefined);
    return p ? { taskId, branch, base, ref: String(p.number), url: p.html_url } : null;
  }

  /** Makes someone else's commit on the branch known here, so the next push replaces it (their answer "overwrite"). */
  async adoptRemoteHead(_workspace: string, branch: string, remoteSha: string): Promise<void> {
    // Objects only (no ref, no FETCH_HEAD): nothing the guard or the mirror's own refs would notice.
    const r = await this.authedGit(this.mirror.path, ['fetch', '-q', '--no-tags', '--no-write-fetch-head', this.mirror.remote, `refs/heads/${branch}`]);
    if (r.code !== 0) throw new GantryError('unavailable', `fetching ${branch} (${remoteSha.slice(0, 12)}) from ${this.cfg.repo} failed: ${r.out.split('\n').slice(-3).join(' | ')}`, { hint: 'check the remote is reachable, then answer again' });
  }

  /** Reopens a pull request a person closed (their answer "reopen"). */
  async reopenChange(c: Change): Promise<void> {
    await this.call('reopen pull request', () => this.api.rest.pulls.update({ owner: this.owner, repo: this.name, pull_number: Number(c.ref), state: 'open' }));
  }

  async changeState(c: Change): Promise<{ state: ChangeState; headSha: string; mergedSha: string | null }> {
    const p = await this.pull(c);
    return { state: pullState({ state: p.state as 'open' | 'closed', merged: p.merged, mergeable: p.mergeable }).state, headSha: p.head.sha, mergedSha: p.merge_commit_sha };
  }

  async mergeability(c: Change): Promise<Mergeability> {
    await this.mirror.fetch([c.base]);
    const rev = async (ref: string) => {
      const r = await hardened(['rev-parse', '--verify', '-q', `${ref}^{commit}`], { cwd: this.mirror.path, okCodes: ANY });
      if (r.code !== 0) throw new GantryError('not_found', `git ref ${ref} not found in the mirror ${this.mirror.path}`, { hint: 'was the task provisioned on this factory?' });
      return r.stdout.trim();
    };
    const baseSha = await rev(`refs/heads/${c.base}`);
    const headSha = await rev(`refs/heads/${c.branch}`);
    const r = await hardened(MERGE_TREE_ARGS(baseSha, headSha), { cwd: this.mirror.path, okCodes: ANY });
    return mergeTreeVerdict({ code: r.code, out: r.stdout.trimEnd(), err: r.stderr.trimEnd() }, baseSha, headSha);
  }

  async merge(c: Change, o: { expectedHeadSha: string; expectedBaseSha: string; message: string }): Promise<{ mergedSha: string; alreadyMerged: boolean }> {
    const p = await this.pull(c);
    if (p.merged) return { mergedSha: p.merge_commit_sha ?? p.head.sha, alreadyMerged: true };
    if (p.base.sha !== o.expectedBaseSha) throw conflict(`${c.base} moved to ${p.base.sha}, expected ${o.expectedBaseSha}`, 're-test mergeability and try again');
    try {
      const r = await this.api.rest.pulls.merge({ owner: this.owner, repo: this.name, pull_number: p.number, sha: o.expectedHeadSha, merge_method: 'merge', commit_title: o.message });
      return { mergedSha: r.data.sha, alreadyMerged: false };
    } catch (e) {
      const h = httpError(e);
      // 409: the head (or base) moved since we looked — the lost-race path: nothing merged, try again.
      if (h?.status === 409) throw conflict(`pull request #${p.number}: ${this.clean(h.message)}`, 're-test mergeability and try again');
      if (h?.status === 405) {
        const again = await this.pull(c);
        if (again.merged) return { mergedSha: again.merge_commit_sha ?? again.head.sha, alreadyMerged: true };
        if (again.mergeable === false) throw conflict(`pull request #${p.number} conflicts with ${c.base}`, 'resolve the conflicts first');
        // Branch protection (reviews, required checks, rules) refused: a person has to act, retrying cannot help.
        throw new GantryError('forbidden', `GitHub refused to merge pull request #${p.number}: ${this.clean(h.message)}`, {
          hint: `see ${again.html_url}: satisfy the branch protection of ${c.base} (approvals, required checks), then answer the merge review with "merge"`,
          details: { refusedBy: 'forge', pull: p.number, url: again.html_url },
        });
      }
      return this.fail('merge pull request', e);
    }
  }

  awaitReview(w: ReviewWait): Promise<ReviewWaitResult> {
    return awaitReview(this, w, this.clock);
  }

  async hostedChecks(_c: Change, headSha: string, required: readonly string[] = []): Promise<HostedVerdict> {
    const q = { owner: this.owner, repo: this.name, ref: headSha, per_page: 100 };
    const [runs, status] = await Promise.all([
      this.call('list check runs', () => this.api.rest.checks.listForRef(q)),
      this.call('get combined status', () => this.api.rest.repos.getCombinedStatusForRef(q)),
    ]);
    return hostedVerdict(
      runs.data.check_runs.map((r) => ({ name: r.name, status: r.status, conclusion: r.conclusion, output: [r.output.title, r.output.summary, r.output.text].filter(Boolean).join('\n'), url: r.details_url ?? null })),
      status.data.statuses.map((s) => ({ context: s.context, state: s.state, description: s.description, url: s.target_url })),
      required,
    );
  }

  /** Open issues carrying `label` (pull requests, which GitHub lists among issues, are marked `isPull`). */
  async labelledIssues(label: string): Promise<IssueFacts[]> {
    const r = await this.call('list issues', () => this.api.rest.issues.listForRepo({ owner: this.owner, repo: this.name, labels: label, state: 'open', per_page: 100 }));
    return r.data.map((i) => ({
      number: i.number, title: i.title, body: i.body ?? '', state: i.state === 'closed' ? 'closed' : 'open', isPull: i.pull_request !== undefined && i.pull_request !== null,
      labels: i.labels.map((l) => (typeof l === 'string' ? l : l.name ?? '')).filter(Boolean), url: i.html_url,
    }));
  }

  /** Comments on an issue and adds a label to it (the task's outcome, echoed back). */
  async echoToIssue(issue: number, echo: { comment: string; label: string }): Promise<void> {
    await this.call('comment on issue', () => this.api.rest.issues.createComment({ owner: this.owner, repo: this.name, issue_number: issue, body: echo.comment }));
    await this.call('label issue', () => this.api.rest.issues.addLabels({ owner: this.owner, repo: this.name, issue_number: issue, labels: [echo.label] }));
  }

  async reviews(c: Change): Promise<ReviewVerdict> {
    const n = Number(c.ref);
    const q = { owner: this.owner, repo: this.name, pull_number: n, per_page: 100 };
    // Reviews first, then their comments: a review (submitted with its comments at once) seen by the first
    // call has its comments in the second; read together, a review landing between them came back bare.
    const rs = await this.call('list reviews', () => this.api.rest.pulls.listReviews(q));
    const cs = await this.call('list review comments', () => this.api.rest.pulls.listReviewComments(q));
    return reviewVerdict(
      rs.data.map((r) => ({ id: r.id, user: r.user?.login ?? 'someone', state: r.state, body: r.body ?? '', commitId: r.commit_id ?? null })),
      cs.data.map((x) => ({ reviewId: x.pull_request_review_id ?? null, path: x.path, line: x.line ?? x.original_line ?? null, body: x.body })),
    );
  }
}
