// Serves the built dashboard (web/dist) through `send` (pillarjs): ETag and Last-Modified with
// conditional GETs, ranges, HEAD, and its refusal of malformed, NUL-carrying and traversing paths.
// Which file answers a path, and how long it may be cached, is decided by `staticPlan` (pure).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';
import send from 'send';

export interface StaticSite {
  dir: string;
}

/** Hashed build output: its name changes whenever its content does. */
const HASHED = /^\/assets\/[^/]+-[\w-]{6,}\.\w+$/;

export type StaticPlan =
  /** Serve `file`; on a miss, answer 404 (never index.html) or fall back to the app shell. */
  { file: string; cache: 'immutable' | 'revalidate'; onMissing: 'not_found' | 'app_shell' };

/**
 * Hashed assets are cached for a year (`immutable`); everything else revalidates (`no-cache`, with
 * an ETag). A missing file that looks like a file (an extension, or anything under /assets/) is a
 * 404; any other path is a client-side route and gets the app shell, index.html.
 */
export function staticPlan(pathname: string): StaticPlan {
  if (pathname === '/' || pathname === '/index.html') return { file: '/index.html', cache: 'revalidate', onMissing: 'not_found' };
  const fileLike = pathname.startsWith('/assets/') || extname(pathname) !== '';
  return { file: pathname, cache: HASHED.test(pathname) ? 'immutable' : 'revalidate', onMissing: fileLike ? 'not_found' : 'app_shell' };
}

const CACHE = { immutable: 'public, max-age=31536000, immutable', revalidate: 'no-cache' } as const;

export interface StaticMiss {
  status: number;
  message: string;
}

/** Serves `pathname` (still percent-encoded) from the site; calls `fail` for a 4xx it does not answer itself. */
export function serveStatic(site: StaticSite, pathname: string, req: IncomingMessage, res: ServerResponse, fail: (m: StaticMiss) => void): void {
  const plan = staticPlan(pathname);
  const stream = (file: string, cache: StaticPlan['cache'], onMissing: StaticPlan['onMissing']): void => {
    send(req, file, { root: site.dir, index: false, dotfiles: 'ignore', etag: true, lastModified: true })
      .on('headers', (r: ServerResponse) => r.setHeader('Cache-Control', CACHE[cache]))
      .on('directory', () => (onMissing === 'app_shell' || file === '/' ? stream('/index.html', 'revalidate', 'not_found') : fail({ status: 404, message: `no file at ${pathname}` })))
      .on('error', (e: { status?: number; statusCode?: number }) => {
        const status = e.status ?? e.statusCode ?? 500;
        if (status === 404 && onMissing === 'app_shell') return stream('/index.html', 'revalidate', 'not_found');
        if (status === 404 && file === '/index.html') return fail({ status: 404, message: 'dashboard not built: run `npm run build:web`' });
        if (status === 404) return fail({ status: 404, message: `no file at ${pathname}` });
        if (status === 403) return fail({ status: 400, message: 'path not allowed' });
        fail({ status: status >= 500 ? 500 : status, message: status === 400 ? 'malformed path' : `cannot serve ${pathname}` });
      })
      .pipe(res);
  };
  stream(plan.file, plan.cache, plan.onMissing);
}
