// Path matching: `/api/tasks/:id` style patterns, compiled once.
import type { Method, Route } from './route.js';

interface Compiled {
  route: Route;
  parts: string[];
}

export interface Match {
  route: Route;
  params: Record<string, string>;
}

export class Router {
  private readonly byMethod = new Map<Method, Compiled[]>();
  private readonly all: Route[] = [];

  constructor(routes: readonly Route[]) {
    for (const r of routes) this.add(r);
  }

  add(route: Route): void {
    const list = this.byMethod.get(route.method) ?? [];
    const parts = route.path.split('/').filter(Boolean);
    const dup = list.find((c) => c.route.path === route.path);
    if (dup) throw new Error(`route ${route.method} ${route.path} registered twice`);
    list.push({ route, parts });
    // Literal segments win over parameters: sort by specificity.
    list.sort((a, b) => score(b.parts) - score(a.parts));
    this.byMethod.set(route.method, list);
    this.all.push(route);
  }

  routes(): readonly Route[] {
    return this.all;
  }

  match(method: string, pathname: string): Match | 'method_not_allowed' | undefined {
    const segs = pathname.split('/').filter(Boolean).map(safeDecode);
    const found = this.find(method as Method, segs);
    if (found) return found;
    for (const m of this.byMethod.keys()) if (m !== method && this.find(m, segs)) return 'method_not_allowed';
    return undefined;
  }

  /** The methods some route serves at `pathname` (for a 405's Allow header). */
  allowed(pathname: string): Method[] {
    const segs = pathname.split('/').filter(Boolean).map(safeDecode);
    return [...this.byMethod.keys()].filter((m) => this.find(m, segs)).sort();
  }

  /** The routes some method serves at `pathname`. */
  routesAt(pathname: string): Route[] {
    const segs = pathname.split('/').filter(Boolean).map(safeDecode);
    return [...this.byMethod.keys()].flatMap((m) => this.find(m, segs)?.route ?? []);
  }

  private find(method: Method, segs: string[]): Match | undefined {
    for (const c of this.byMethod.get(method) ?? []) {
      if (c.parts.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segs.length; i++) {
        const p = c.parts[i]!;
        if (p.startsWith(':')) params[p.slice(1)] = segs[i]!;
        else if (p !== segs[i]) {
          ok = false;
          break;
        }
      }
      if (ok) return { route: c.route, params };
    }
    return undefined;
  }
}

const score = (parts: string[]): number => parts.reduce((s, p, i) => s + (p.startsWith(':') ? 0 : 2 ** (10 - Math.min(i, 10))), 0);

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
