#!/usr/bin/env node
// `gantry`: runs the compiled JavaScript in dist/ (built on `npm install` by `prepare`, or by
// `npm run build`). No TypeScript compiler runs here.
const entry = new URL('../dist/cli/entry.js', import.meta.url);
try {
  await import(entry.href);
} catch (e) {
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes(entry.pathname)) {
    const root = new URL('..', import.meta.url).pathname;
    process.stderr.write(`gantry: not built: ${entry.pathname} is missing — run \`npm run build\` in ${root}\n`);
    process.exit(1);
  }
  throw e;
}
