// Serves the built dashboard (web/dist) with an SPA fallback to index.html.
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface StaticSite {
  dir: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

export function serveStatic(site: StaticSite, pathname: string, req: IncomingMessage, res: ServerResponse): void {
  const rel = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '');
  let file = join(site.dir, rel);
  if (!file.startsWith(site.dir + sep) && file !== site.dir) file = join(site.dir, 'index.html');
  let st = statOrNull(file);
  if (!st || st.isDirectory()) {
    file = join(site.dir, 'index.html');
    st = statOrNull(file);
  }
  if (!st) {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('dashboard not built: run `npm run build:web`');
    return;
  }
  const immutable = rel.startsWith('assets/');
  res.writeHead(200, {
    'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    'Content-Length': st.size,
    'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
}

function statOrNull(p: string) {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}
