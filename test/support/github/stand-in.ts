// A local stand-in for the GitHub REST API, written from GitHub's public REST docs (pulls, merges,
// check runs, combined commit status, reviews, review comments, issue labels), backed by real bare
// git repositories served over smart HTTP (test/support/git-http.ts): pushes are real pushes, head
// SHAs are read from the repository, merges are real merge commits moved by compare-and-set.
// Tests reach it only through Octokit with `baseUrl` pointing here; the test-only controls below
// (CI results, reviews, branch protection, a push racing a merge) stand for what other people and
// GitHub Actions would do.
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gitAsync, startGitHttp, type GitHttpServer } from '../git-http.js';

export interface CheckRunFixture {
  name: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: 'success' | 'failure' | 'neutral' | 'cancelled' | 'skipped' | 'timed_out' | 'action_required' | null;
  output?: { title?: string; summary?: string; text?: string };
}
export interface StatusFixture {
  context: string;
  state: 'error' | 'failure' | 'pending' | 'success';
  description?: string;
}
/** What "CI" reports for a commit: the test decides from the commit (e.g. from the files in it). */
export type CiFor = (sha: string, gitDir: string) => Promise<{ checkRuns?: CheckRunFixture[]; statuses?: StatusFixture[] }>;

export interface Protection {
  requiredApprovals?: number;
  requiredChecks?: string[];
}

interface Pull {
  number: number;
  owner: string;
  repo: string;
  title: string;
  body: string;
  head: string;
  base: string;
  state: 'open' | 'closed';
  merged: boolean;
  mergeCommitSha: string | null;
  labels: string[];
  lastHead: string | null;
}
export interface Issue {
  number: number;
  owner: string;
  repo: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
  labels: string[];
  comments: { id: number; body: string; user: string }[];
}
interface Review {
  id: number;
  pull: number;
  user: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED';
  body: string;
  commitId: string;
  submittedAt: string;
}
interface ReviewComment {
  id: number;
  reviewId: number;
  pull: number;
  path: string;
  line: number;
  body: string;
  commitId: string;
  user: string;
}

export interface GitHubStandIn {
  /** The API base URL (Octokit `baseUrl`). */
  apiUrl: string;
  git: GitHttpServer;
  /** The bare repository behind owner/repo (created with `createRepo`). */
  gitDir(owner: string, repo: string): string;
  /** The clone URL without credentials (what GitHub shows as clone_url). */
  cloneUrl(owner: string, repo: string): string;
  /** Seeds owner/repo from a local repository (its branches). */
  createRepo(owner: string, repo: string, seed: string): Promise<void>;
  /** Every API request: method, path, status, and whether it carried the token. */
  requests: { method: string; path: string; status: number; authed: boolean }[];
  pulls(): Pull[];
  issues(): Issue[];
  /** Someone files an issue (numbered with the pull requests, as on GitHub). */
  openIssue(owner: string, repo: string, i: { title: string; body?: string; labels?: string[] }): number;
  setCi(fn: CiFor): void;
  protect(owner: string, repo: string, branch: string, rules: Protection | null): void;
  /** A reviewer submits a review on a pull request (optionally with line comments). */
  review(owner: string, repo: string, pull: number, r: { user?: string; state: Review['state']; body?: string; comments?: { path: string; line: number; body: string }[] }): Promise<void>;
  /** While set, listing pull requests answers this status (an outage: 500; the rate limit: 403). */
  failPullList(status: number | null): void;
  /** Runs once, just before the next merge is evaluated (a push landing at the worst moment). */
  beforeNextMerge(fn: () => Promise<void>): void;
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';
type Json = Record<string, unknown> | unknown[];

class HttpError extends Error {
  constructor(readonly status: number, readonly body: Record<string, unknown>) {
    super(String(body.message));
  }
}
const fail = (status: number, message: string, extra: Record<string, unknown> = {}): never => {
  throw new HttpError(status, { message, documentation_url: DOCS, ...extra });
};

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return fail(400, 'Problems parsing JSON');
  }
}

async function revParse(gitDir: string, ref: string): Promise<string | null> {
  try {
    return await gitAsync(gitDir, 'rev-parse', '--verify', '-q', `${ref}^{commit}`);
  } catch {
    return null;
  }
}

async function mergeTree(gitDir: string, base: string, head: string): Promise<string | null> {
  try {
    return (await gitAsync(gitDir, 'merge-tree', '--write-tree', base, head)).split('\n')[0]!;
  } catch {
    return null;
  }
}

/** Starts the stand-in; `token` is the one token it accepts (API: `Authorization: token|Bearer`, git: x-access-token). */
export async function startGitHubStandIn(root: string, token: string): Promise<GitHubStandIn> {
  // A public repository: anyone fetches, only the token pushes.
  const git = await startGitHttp(root, { user: 'x-access-token', password: token }, { anonymousRead: true });
  const requests: GitHubStandIn['requests'] = [];
  const pulls: Pull[] = [];
  const reviews: Review[] = [];
  const issues: Issue[] = [];
  let nextNumber = 1; // issues and pull requests share one sequence per repository, as on GitHub
  const comments: ReviewComment[] = [];
  const protections = new Map<string, Protection>();
  let ci: CiFor = async () => ({});
  let mergeHook: (() => Promise<void>) | null = null;
  let pullListFails: number | null = null;
  let nextId = 1000;
  const gitDir = (owner: string, repo: string) => join(root, owner, `${repo}.git`);
  let apiUrl = '';

  const pullJson = async (p: Pull): Promise<Record<string, unknown>> => {
    const dir = gitDir(p.owner, p.repo);
    const headSha = p.state === 'open' ? ((await revParse(dir, `refs/heads/${p.head}`)) ?? p.lastHead) : p.lastHead;
    p.lastHead = headSha;
    const baseSha = await revParse(dir, `refs/heads/${p.base}`);
    let mergeable: boolean | null = null;
    let mergeableState = 'unknown';
    if (p.state === 'open' && headSha && baseSha) {
      mergeable = (await mergeTree(dir, baseSha, headSha)) !== null;
      mergeableState = !mergeable ? 'dirty' : (await blocked(p, headSha)) ? 'blocked' : 'clean';
    }
    const url = `${apiUrl}/repos/${p.owner}/${p.repo}/pulls/${p.number}`;
    return {
      url, id: p.number * 7, number: p.number, node_id: `PR_${p.number}`, html_url: `https://github.example/${p.owner}/${p.repo}/pull/${p.number}`,
      state: p.state, locked: false, title: p.title, body: p.body, draft: false, user: { login: 'gantry-bot', id: 1, type: 'Bot' },
      labels: p.labels.map((name, i) => ({ id: i + 1, name, color: 'ededed', default: false })),
      head: { label: `${p.owner}:${p.head}`, ref: p.head, sha: headSha, repo: { full_name: `${p.owner}/${p.repo}`, clone_url: git.url(`${p.owner}/${p.repo}.git`, null) } },
      base: { label: `${p.owner}:${p.base}`, ref: p.base, sha: baseSha, repo: { full_name: `${p.owner}/${p.repo}` } },
      merged: p.merged, mergeable: p.state === 'open' ? mergeable : null, mergeable_state: mergeableState, merge_commit_sha: p.mergeCommitSha,
      merged_at: p.merged ? new Date().toISOString() : null, created_at: new Date(0).toISOString(), updated_at: new Date().toISOString(),
    };
  };

  const ciOf = async (owner: string, repo: string, ref: string) => {
    const dir = gitDir(owner, repo);
    const sha = (await revParse(dir, ref)) ?? fail(422, `No commit found for SHA: ${ref}`);
    return { sha, ...(await ci(sha, dir)) };
  };

  /** Why branch protection refuses merging `p` at `headSha` (null: it allows it). */
  const blocked = async (p: Pull, headSha: string): Promise<string | null> => {
    const rules = protections.get(`${p.owner}/${p.repo}:${p.base}`);
    if (!rules) return null;
    const latest = new Map<string, Review['state']>();
    for (const r of reviews.filter((x) => x.pull === p.number && x.state !== 'COMMENTED')) latest.set(r.user, r.state);
    const approvals = [...latest.values()].filter((s) => s === 'APPROVED').length;
    if ((rules.requiredApprovals ?? 0) > approvals) return `At least ${rules.requiredApprovals} approving review is required by reviewers with write access.`;
    const c = await ci(headSha, gitDir(p.owner, p.repo));
    for (const name of rules.requiredChecks ?? []) {
      const ok = (c.checkRuns ?? []).some((r) => r.name === name && r.conclusion === 'success') || (c.statuses ?? []).some((s) => s.context === name && s.state === 'success');
      if (!ok) return `Required status check "${name}" is expected.`;
    }
    return null;
  };

  const findIssue = (owner: string, repo: string, n: string): Issue =>
    issues.find((i) => i.owner === owner && i.repo === repo && i.number === Number(n)) ?? fail(404, 'Not Found');
  const issueJson = (i: Issue): Record<string, unknown> => ({
    id: i.number * 11, number: i.number, title: i.title, body: i.body, state: i.state, comments: i.comments.length,
    labels: i.labels.map((name, k) => ({ id: k + 1, name, color: 'ededed', default: false })),
    html_url: `https://github.example/${i.owner}/${i.repo}/issues/${i.number}`, user: { login: 'someone', id: 2, type: 'User' },
  });

  const find = (owner: string, repo: string, n: string): Pull =>
    pulls.find((p) => p.owner === owner && p.repo === repo && p.number === Number(n)) ?? fail(404, 'Not Found');

  async function route(req: IncomingMessage, url: URL): Promise<[number, Json]> {
    const m = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== 'repos' || parts.length < 4) return fail(404, 'Not Found');
    const [, owner, repo, area, ...rest] = parts as [string, string, string, string, ...string[]];
    const dir = gitDir(owner, repo);
    if (!(await revParse(dir, 'HEAD')) && !(await revParse(dir, 'refs/heads/main'))) return fail(404, 'Not Found');
    const key = `${m} ${area}/${rest.map((r, i) => (i % 2 === 0 ? ':' : r)).join('/')}`.replace(/\/$/, '');

    switch (key) {
      case 'GET pulls': {
        if (pullListFails !== null) return fail(pullListFails, pullListFails === 403 ? 'API rate limit exceeded for user ID 1.' : 'Server Error');
        const state = url.searchParams.get('state') ?? 'open';
        const head = url.searchParams.get('head');
        const base = url.searchParams.get('base');
        const out = pulls.filter((p) => p.owner === owner && p.repo === repo && (state === 'all' || p.state === state) && (!head || `${p.owner}:${p.head}` === head) && (!base || p.base === base));
        return [200, await Promise.all(out.map(pullJson))];
      }
      case 'POST pulls': {
        const b = await readJson(req);
        const title = typeof b.title === 'string' ? b.title : fail(422, 'Validation Failed', { errors: [{ resource: 'PullRequest', field: 'title', code: 'missing_field' }] });
        const head = String(b.head ?? '').replace(/^[^:]+:/, '');
        const base = String(b.base ?? '');
        if (!(await revParse(dir, `refs/heads/${head}`))) fail(422, 'Validation Failed', { errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }] });
        if (!(await revParse(dir, `refs/heads/${base}`))) fail(422, 'Validation Failed', { errors: [{ resource: 'PullRequest', field: 'base', code: 'invalid' }] });
        if (pulls.some((p) => p.owner === owner && p.repo === repo && p.head === head && p.state === 'open')) {
          fail(422, 'Validation Failed', { errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${owner}:${head}.` }] });
        }
        const p: Pull = { number: nextNumber++, owner, repo, title, body: typeof b.body === 'string' ? b.body : '', head, base, state: 'open', merged: false, mergeCommitSha: null, labels: [], lastHead: null };
        pulls.push(p);
        return [201, await pullJson(p)];
      }
      case 'GET pulls/:': return [200, await pullJson(find(owner, repo, rest[0]!))];
      case 'PATCH pulls/:': {
        const p = find(owner, repo, rest[0]!);
        const b = await readJson(req);
        if (typeof b.title === 'string') p.title = b.title;
        if (typeof b.body === 'string') p.body = b.body;
        // As GitHub: a closed pull request whose head branch was deleted cannot be reopened.
        if (b.state === 'open' && p.state === 'closed' && !p.merged && !(await revParse(dir, `refs/heads/${p.head}`))) {
          fail(422, 'Validation Failed', { errors: [{ resource: 'PullRequest', code: 'custom', field: 'state', message: `state cannot be changed. The ${p.head} branch has been deleted.` }] });
        }
        if ((b.state === 'closed' || b.state === 'open') && !p.merged) p.state = b.state;
        return [200, await pullJson(p)];
      }
      case 'PUT pulls/:/merge': {
        const p = find(owner, repo, rest[0]!);
        const b = await readJson(req);
        if (mergeHook) {
          const h = mergeHook;
          mergeHook = null;
          await h();
        }
        if (p.merged) return fail(405, 'Pull Request is not mergeable');
        if (p.state !== 'open') return fail(422, 'Pull request is closed');
        const headSha = (await revParse(dir, `refs/heads/${p.head}`)) ?? fail(422, 'Head branch is missing');
        if (typeof b.sha === 'string' && b.sha !== headSha) return fail(409, 'Head branch was modified. Review and try the merge again.');
        const refusal = await blocked(p, headSha);
        if (refusal) return fail(405, refusal);
        const baseSha = (await revParse(dir, `refs/heads/${p.base}`))!;
        const tree = (await mergeTree(dir, baseSha, headSha)) ?? fail(405, 'Pull Request is not mergeable');
        const title = typeof b.commit_title === 'string' ? b.commit_title : `Merge pull request #${p.number} from ${owner}/${p.head}`;
        const msg = typeof b.commit_message === 'string' ? `${title}\n\n${b.commit_message}` : title;
        const merged = await gitAsync(dir, 'commit-tree', tree, '-p', baseSha, '-p', headSha, '-m', msg);
        try {
          await gitAsync(dir, 'update-ref', `refs/heads/${p.base}`, merged, baseSha);
        } catch {
          return fail(409, 'Base branch was modified. Review and try the merge again.');
        }
        Object.assign(p, { merged: true, state: 'closed', mergeCommitSha: merged, lastHead: headSha });
        return [200, { sha: merged, merged: true, message: 'Pull Request successfully merged' }];
      }
      case 'GET pulls/:/reviews': {
        const n = find(owner, repo, rest[0]!).number;
        return [200, reviews.filter((r) => r.pull === n).map((r) => ({ id: r.id, node_id: `PRR_${r.id}`, user: { login: r.user, id: r.id, type: 'User' }, body: r.body, state: r.state, commit_id: r.commitId, submitted_at: r.submittedAt, html_url: `https://github.example/${owner}/${repo}/pull/${n}#pullrequestreview-${r.id}` }))];
      }
      case 'GET pulls/:/comments': {
        const n = find(owner, repo, rest[0]!).number;
        return [200, comments.filter((c) => c.pull === n).map((c) => ({ id: c.id, pull_request_review_id: c.reviewId, path: c.path, line: c.line, original_line: c.line, side: 'RIGHT', body: c.body, commit_id: c.commitId, user: { login: c.user, id: c.id, type: 'User' } }))];
      }
      case 'GET issues': {
        // Documented: open by default; `labels` is a comma-separated list all of which must be present;
        // pull requests are listed too, marked with a `pull_request` key.
        const state = url.searchParams.get('state') ?? 'open';
        const want = (url.searchParams.get('labels') ?? '').split(',').map((l) => l.trim()).filter(Boolean);
        const ok = (st: string, ls: string[]) => (state === 'all' || st === state) && want.every((l) => ls.includes(l));
        const labelJson = (ls: string[]) => ls.map((name, i) => ({ id: i + 1, name, color: 'ededed', default: false }));
        const out: Record<string, unknown>[] = [
          ...issues.filter((i) => i.owner === owner && i.repo === repo && ok(i.state, i.labels)).map((i) => issueJson(i)),
          ...pulls.filter((p) => p.owner === owner && p.repo === repo && ok(p.state, p.labels)).map((p) => ({
            id: p.number * 7, number: p.number, title: p.title, body: p.body, state: p.state, labels: labelJson(p.labels), comments: 0,
            html_url: `https://github.example/${p.owner}/${p.repo}/pull/${p.number}`, user: { login: 'gantry-bot', id: 1, type: 'Bot' },
            pull_request: { url: `${apiUrl}/repos/${p.owner}/${p.repo}/pulls/${p.number}`, html_url: `https://github.example/${p.owner}/${p.repo}/pull/${p.number}` },
          })),
        ];
        return [200, out.sort((a, b) => Number(b.number) - Number(a.number))];
      }
      case 'GET issues/:/comments': {
        const i = findIssue(owner, repo, rest[0]!);
        return [200, i.comments.map((c) => ({ id: c.id, body: c.body, user: { login: c.user, id: 1, type: 'Bot' } }))];
      }
      case 'POST issues/:/comments': {
        const i = findIssue(owner, repo, rest[0]!);
        const b = await readJson(req);
        const body = typeof b.body === 'string' && b.body ? b.body : fail(422, 'Validation Failed', { errors: [{ resource: 'IssueComment', field: 'body', code: 'missing_field' }] });
        const c = { id: nextId++, body, user: 'gantry-bot' };
        i.comments.push(c);
        return [201, { id: c.id, body: c.body, user: { login: c.user, id: 1, type: 'Bot' }, html_url: `https://github.example/${owner}/${repo}/issues/${i.number}#issuecomment-${c.id}` }];
      }
      case 'POST issues/:/labels': {
        const p: { labels: string[] } = issues.find((i) => i.owner === owner && i.repo === repo && i.number === Number(rest[0])) ?? find(owner, repo, rest[0]!);
        const b = await readJson(req);
        const add = Array.isArray(b.labels) ? b.labels.map(String) : fail(422, 'Validation Failed');
        p.labels = [...new Set([...p.labels, ...add])];
        return [200, p.labels.map((name, i) => ({ id: i + 1, name, color: 'ededed', default: false }))];
      }
      case 'GET commits/:/check-runs': {
        const c = await ciOf(owner, repo, rest[0]!);
        const runs = (c.checkRuns ?? []).map((r, i) => ({
          id: i + 1, name: r.name, head_sha: c.sha, status: r.status, conclusion: r.conclusion, details_url: `https://ci.example/${c.sha}/${r.name}`,
          output: { title: r.output?.title ?? null, summary: r.output?.summary ?? null, text: r.output?.text ?? null, annotations_count: 0 },
          started_at: new Date(0).toISOString(), completed_at: r.status === 'completed' ? new Date(0).toISOString() : null,
        }));
        return [200, { total_count: runs.length, check_runs: runs }];
      }
      case 'GET commits/:/status': {
        const c = await ciOf(owner, repo, rest[0]!);
        const st = c.statuses ?? [];
        // The combined state, as documented: failure if any is error/failure, pending if none or any pending, else success.
        const state = st.some((s) => s.state === 'error' || s.state === 'failure') ? 'failure' : st.length === 0 || st.some((s) => s.state === 'pending') ? 'pending' : 'success';
        return [200, { state, sha: c.sha, total_count: st.length, statuses: st.map((s, i) => ({ id: i + 1, context: s.context, state: s.state, description: s.description ?? null, target_url: `https://ci.example/${c.sha}/${s.context}` })) }];
      }
      default:
        return fail(404, 'Not Found');
    }
  }

  const server = createServer((req, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization ?? '';
    const authed = auth === `token ${token}` || auth === `Bearer ${token}`;
    const send = (status: number, body: Json) => {
      requests.push({ method: req.method ?? 'GET', path: url.pathname, status, authed });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-github-api-version-selected': '2022-11-28' }).end(JSON.stringify(body));
    };
    if (!authed) return send(401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
    route(req, url).then(
      ([status, body]) => send(status, body),
      (e: unknown) => (e instanceof HttpError ? send(e.status, { ...e.body, status: String(e.status) }) : send(500, { message: e instanceof Error ? e.message : String(e) })),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    apiUrl,
    git,
    requests,
    gitDir,
    cloneUrl: (owner, repo) => git.url(`${owner}/${repo}.git`, null),
    createRepo: async (owner, repo, seed) => {
      mkdirSync(root, { recursive: true });
      await gitAsync(root, 'clone', '-q', '--bare', seed, gitDir(owner, repo));
    },
    pulls: () => pulls,
    issues: () => issues,
    openIssue: (owner, repo, i) => {
      const number = nextNumber++;
      issues.push({ number, owner, repo, title: i.title, body: i.body ?? '', state: 'open', labels: [...(i.labels ?? [])], comments: [] });
      return number;
    },
    setCi: (fn) => {
      ci = fn;
    },
    protect: (owner, repo, branch, rules) => {
      if (rules) protections.set(`${owner}/${repo}:${branch}`, rules);
      else protections.delete(`${owner}/${repo}:${branch}`);
    },
    review: async (owner, repo, pull, r) => {
      const p = find(owner, repo, String(pull));
      const commitId = (await revParse(gitDir(owner, repo), `refs/heads/${p.head}`)) ?? '';
      const id = nextId++;
      reviews.push({ id, pull: p.number, user: r.user ?? 'reviewer', state: r.state, body: r.body ?? '', commitId, submittedAt: new Date().toISOString() });
      for (const c of r.comments ?? []) comments.push({ id: nextId++, reviewId: id, pull: p.number, path: c.path, line: c.line, body: c.body, commitId, user: r.user ?? 'reviewer' });
    },
    failPullList: (status) => {
      pullListFails = status;
    },
    beforeNextMerge: (fn) => {
      mergeHook = fn;
    },
    close: async () => {
      await new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      });
      await git.close();
    },
  };
}
