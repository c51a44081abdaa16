// Pure deciders for GitHub webhook deliveries: is the signature header well formed, and what does an
// event mean to Gantry. The HMAC itself is computed in src/scm/webhook-signature.ts (node:crypto).

/** The events after which a waiting checks or pr-review step may have something new to see. */
export const WAKING_EVENTS = ['check_run', 'check_suite', 'status', 'pull_request_review', 'pull_request'] as const;

export type WebhookAction = { type: 'wake' } | { type: 'issues' } | { type: 'ping' } | { type: 'ignore'; reason: string };

export function decideWebhook(event: string | undefined): WebhookAction {
  if (!event) return { type: 'ignore', reason: 'no X-GitHub-Event header' };
  if (event === 'ping') return { type: 'ping' };
  // Issue intake: an issue opened, labelled or reopened with the intake label is taken in at once.
  if (event === 'issues') return { type: 'issues' };
  if ((WAKING_EVENTS as readonly string[]).includes(event)) return { type: 'wake' };
  return { type: 'ignore', reason: `event ${event} is not one Gantry acts on` };
}

/** The hex digest of `sha256=<64 hex>`, or null when the header is absent or malformed. */
export function parseSignatureHeader(header: string | undefined): string | null {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '');
  return m ? m[1]!.toLowerCase() : null;
}

const str = (x: unknown): string | null => (typeof x === 'string' && x ? x : null);
const obj = (x: unknown): Record<string, unknown> => (typeof x === 'object' && x !== null ? (x as Record<string, unknown>) : {});

/** A delivery's body: GitHub sends JSON, or (content type "application/x-www-form-urlencoded") `payload=<JSON>`.
 *  `ok: false` when it carries no JSON payload. Parsing trusts nothing: the route reads only the repository
 *  from it until the signature is verified. */
export function parseDelivery(text: string, contentType: string | undefined): { ok: true; payload: unknown } | { ok: false } {
  try {
    if (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      const payload = new URLSearchParams(text).get('payload');
      return payload === null ? { ok: false } : { ok: true, payload: JSON.parse(payload) as unknown };
    }
    return { ok: true, payload: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** The repository a delivery is about (`repository.full_name`, lower-cased: GitHub's names are case-insensitive), or null. */
export function deliveryRepository(payload: unknown): string | null {
  return str(obj(obj(payload).repository).full_name)?.toLowerCase() ?? null;
}

/** The GitHub repository (owner/name, lower-cased) a project's deliveries are about: `scm.github.repo`, else
 *  the one its remote names; null when neither names one. */
export function projectRepository(config: Record<string, unknown>, remote: string, fromRemote: (remote: string) => string | null): string | null {
  const repo = obj(obj(config.scm).github).repo;
  return (typeof repo === 'string' && repo ? repo : fromRemote(remote))?.toLowerCase() ?? null;
}

/** What a forge poll sleeps on: its repository (owner/name), the task branch, the pull request, the head it tested. */
export interface WakeTopic {
  repo?: string;
  branch?: string;
  pull?: string | number | null;
  headSha?: string;
}

/** What a change delivery is about: its repository and the branches, pull requests and commits it names. */
export interface WakeTarget {
  repo: string | null;
  branches: string[];
  pulls: number[];
  shas: string[];
}

/** The wake target of a change event (pull_request, pull_request_review, check_run, check_suite, status). */
export function wakeTarget(event: string, payload: unknown): WakeTarget {
  const p = obj(payload);
  const branches: (string | null)[] = [];
  const pulls: unknown[] = [];
  const shas: (string | null)[] = [];
  const prs = (x: unknown): void => {
    if (!Array.isArray(x)) return;
    for (const pr of x) {
      branches.push(str(obj(obj(pr).head).ref));
      pulls.push(obj(pr).number);
    }
  };
  if (event === 'pull_request' || event === 'pull_request_review') {
    const pr = obj(p.pull_request);
    branches.push(str(obj(pr.head).ref));
    shas.push(str(obj(pr.head).sha));
    pulls.push(pr.number ?? p.number);
  }
  if (event === 'check_run' || event === 'check_suite') {
    const c = obj(event === 'check_run' ? p.check_run : p.check_suite);
    const suite = event === 'check_run' ? obj(c.check_suite) : c;
    branches.push(str(suite.head_branch));
    shas.push(str(c.head_sha));
    prs(c.pull_requests);
  }
  if (event === 'status') {
    shas.push(str(p.sha));
    if (Array.isArray(p.branches)) for (const b of p.branches) branches.push(str(obj(b).name));
  }
  const uniq = <T,>(xs: (T | null)[]): T[] => [...new Set(xs.filter((x): x is T => x !== null))];
  return {
    repo: deliveryRepository(payload),
    branches: uniq(branches),
    pulls: uniq(pulls.map((n) => (typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : null))),
    shas: uniq(shas.map((s) => s?.toLowerCase() ?? null)),
  };
}

/**
 * Does a delivery concern a sleeping poll? Each woken poll costs GitHub API calls (five for a `pr-review`
 * look), so only the polls the delivery is about wake: the same repository, and its branch, pull request
 * or head among those the delivery names. A poll that says nothing of itself, and a delivery that names
 * nothing to tell polls apart by, wake as before (polling is the fallback, an early look is only a cost).
 */
export function concerns(topic: WakeTopic | undefined, target: WakeTarget | undefined): boolean {
  if (!topic || !target) return true;
  if (target.repo && topic.repo && topic.repo.toLowerCase() !== target.repo.toLowerCase()) return false;
  if (target.branches.length === 0 && target.pulls.length === 0 && target.shas.length === 0) return true;
  if (topic.branch && target.branches.includes(topic.branch)) return true;
  if (topic.pull != null && target.pulls.includes(Number(topic.pull))) return true;
  return !!topic.headSha && target.shas.includes(topic.headSha.toLowerCase());
}
