#!/usr/bin/env node
// Compiles src/**/*.ts to dist/**/*.js, file for file (no bundling), so `gantry` runs plain
// JavaScript with no TypeScript compiler at run time. Type checking is `npm run typecheck`'s job;
// this only strips types (esbuild, well under a second). dist/ mirrors src/ at the same depth, so
// paths like `new URL('../../web/dist', import.meta.url)` hold in both.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const out = join(root, 'dist');

const entryPoints = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) entryPoints.push(p);
  }
})(src);

const started = Date.now();
rmSync(out, { recursive: true, force: true }); // no stale module of a deleted source survives
await build({
  entryPoints,
  outdir: out,
  outbase: src,
  bundle: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  tsconfig: join(root, 'tsconfig.json'),
  logLevel: 'warning',
});
if (!process.argv.includes('--quiet')) console.error(`built ${entryPoints.length} modules into dist/ in ${Date.now() - started} ms`);
