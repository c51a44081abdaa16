// Run the scripted model server standalone (demos, recording fixtures):
//   node --import tsx test/support/model-server/cli.ts script.json [requests-dump.json]
// Prints the URL on stdout; logs each request on stderr; optionally dumps request bodies.
import { readFileSync, writeFileSync } from 'node:fs';
import { startModelServer, type ScriptedResponse } from './server.js';

const [file, dump] = process.argv.slice(2);
const script = file ? (JSON.parse(readFileSync(file, 'utf8')) as ScriptedResponse[]) : [];
const server = await startModelServer(script);
console.log(server.url);
let seen = 0;
setInterval(() => {
  if (seen === server.requests.length) return;
  for (; seen < server.requests.length; seen++) console.error(`${server.requests[seen]?.method} ${server.requests[seen]?.path}`);
  if (dump) writeFileSync(dump, JSON.stringify(server.requests, null, 1));
}, 100);
