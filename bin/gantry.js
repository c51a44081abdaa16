#!/usr/bin/env node
// Runs the TypeScript sources through tsx's loader: no build step between a checkout and `gantry`.
import { register } from 'tsx/esm/api';

register();
// `gantry ls | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
