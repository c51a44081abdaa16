#!/usr/bin/env node
// `gantry` from the TypeScript sources (through tsx): the tests run the code as it is in the
// working tree, never a stale dist/. Hints name the command `gantry`, as an installed one would.
import { register } from 'tsx/esm/api';

register();
process.env.GANTRY_SELF ??= 'gantry';
await import('../../src/cli/entry.ts');
