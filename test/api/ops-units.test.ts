// Pure pieces of operating Gantry as a service, as tables: request targets, static plans,
// readiness, which series an event moves, log options; plus the logger's redaction and rotation,
// the failed-auth limiter and token files on real files.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBadText, parseRequestTarget } from '../../src/api/request-target.js';
import { staticPlan } from '../../src/api/static.js';
import { decideReadiness, type ReadinessFacts } from '../../src/domain/readiness.js';
import { observationsOf } from '../../src/domain/event-metrics.js';
import { resolveLogOptions } from '../../src/app/log-options.js';
import { createLogger, jsonLogger } from '../../src/api/logger.js';
import { AuthLimiter } from '../../src/api/auth-limiter.js';
import { readTokenFile, resolveTarget } from '../../src/cli/client.js';
import type { GantryEvent } from '../../src/domain/events.js';

describe('request targets', () => {
  const cases: Array<[string, boolean | RegExp]> = [
    ['/api/tasks/t-1?limit=5', true],
    ['/', true],
    ['/assets/index-abc123.js', true],
    ['/caf%C3%A9', true],
    ['http://example.test/api/health', true],
    ['/%', /percent-encoding/],
    ['/%E0%A4%A', /percent-encoding/],
    ['/%E0%A4', /UTF-8/],
    ['/%00', /control character/],
    ['/a%0Ab', /control character/],
    ['/api/tasks?stage=%00', /control character/],
    ['/api/tasks?x=%zz', /percent-encoding in the query/],
    ['*', /must be a path/],
    ['tasks', /must be a path/],
  ];
  for (const [raw, want] of cases) {
    it(`${raw} → ${want === true ? 'ok' : String(want)}`, () => {
      const r = parseRequestTarget(raw);
      if (want === true) assert.equal(r.ok, true, JSON.stringify(r));
      else {
        assert.equal(r.ok, false);
        assert.match((r as { message: string }).message, want as RegExp);
      }
    });
  }
  it('keeps the path encoded and decodes the query', () => {
    const r = parseRequestTarget('/api/x%20y?a=b%20c');
    assert.ok(r.ok);
    assert.equal(r.pathname, '/api/x%20y');
    assert.equal(r.query.get('a'), 'b c');
  });
  it('finds text that cannot be stored anywhere in a JSON body, naming the field', () => {
    assert.deepEqual(findBadText({ to: 'cp', paths: ['a', 'b\u0000c'] }), { field: 'body.paths[1]', why: 'contains a NUL byte' });
    assert.deepEqual(findBadText({ a: { ['k\u0000']: 1 } }), { field: 'body.a.k\\u0000', why: 'has a key that contains a NUL byte' });
    assert.match(findBadText({ name: 'x\ud800' })!.why, /lone surrogate/);
    assert.equal(findBadText({ a: [1, true, null, 'fine', 'caf\u00e9 \ud83d\udca9'] }), null);
  });
});

describe('static plan', () => {
  const cases: Array<[string, string, string, string]> = [
    ['/', '/index.html', 'revalidate', 'not_found'],
    ['/index.html', '/index.html', 'revalidate', 'not_found'],
    ['/assets/index-COIf-1I_.js', '/assets/index-COIf-1I_.js', 'immutable', 'not_found'],
    ['/assets/missing.js', '/assets/missing.js', 'revalidate', 'not_found'],
    ['/favicon.ico', '/favicon.ico', 'revalidate', 'not_found'],
    ['/tasks/t-1', '/tasks/t-1', 'revalidate', 'app_shell'],
  ];
  for (const [path, file, cache, onMissing] of cases) {
    it(`${path} → ${file}, ${cache}, missing: ${onMissing}`, () => assert.deepEqual(staticPlan(path), { file, cache, onMissing }));
  }
});

describe('readiness', () => {
  const base: ReadinessFacts = { store: { ok: true, schemaVersion: 7 }, knownSchemaVersion: 7, localFactories: { expected: 1, live: 1 }, shuttingDown: false };
  const cases: Array<[string, Partial<ReadinessFacts>, boolean, string[]]> = [
    ['all good', {}, true, []],
    ['store down', { store: { ok: false, error: 'ECONNREFUSED' } }, false, ['store']],
    ['schema behind', { store: { ok: true, schemaVersion: 6 } }, false, ['migrations']],
    ['schema ahead', { store: { ok: true, schemaVersion: 8 } }, false, ['migrations']],
    ['no in-process factory live', { localFactories: { expected: 2, live: 0 } }, false, ['factories']],
    ['no in-process factories at all', { localFactories: { expected: 0, live: 0 } }, true, []],
    ['shutting down', { shuttingDown: true }, false, ['shutdown']],
  ];
  for (const [name, facts, ready, failing] of cases) {
    it(name, () => {
      const r = decideReadiness({ ...base, ...facts });
      assert.equal(r.ready, ready);
      assert.deepEqual(r.checks.filter((c) => !c.ok).map((c) => c.name), failing);
    });
  }
});

describe('series moved by events', () => {
  const ev = (type: string, payload: Record<string, unknown>, o: Partial<GantryEvent> = {}): GantryEvent => ({ seq: 1, type, taskId: 't', runId: 'r', sessionId: null, payload, at: 1000, ...o });
  const counts = (e: GantryEvent) => observationsOf(e).filter((o) => o.kind === 'count').map((o) => (o.kind === 'count' ? `${o.name}${JSON.stringify(o.labels)}=${o.value}` : ''));
  const cases: Array<[GantryEvent, string[]]> = [
    [ev('task.submitted', { stage: 'queued' }), ['task_transitions_total{"stage":"queued"}=1', 'tasks_submitted_total{}=1']],
    [ev('lease.granted', { stage: 'assigned', factoryId: 'f' }), ['task_transitions_total{"stage":"assigned"}=1', 'lease_grants_total{}=1']],
    [ev('lease.released', { outcome: 'done', stage: 'shipped' }), ['task_transitions_total{"stage":"shipped"}=1', 'lease_releases_total{"outcome":"done"}=1']],
    [ev('lease.reclaimed', { reason: 'expired', stage: 'queued' }), ['task_transitions_total{"stage":"queued"}=1', 'lease_reclaims_total{"reason":"expired"}=1']],
    [ev('session.dispatched', { agent: 'codex' }), ['agent_launches_total{"adapter":"codex"}=1']],
    [
      ev('session.finished', { agent: 'claude-code', status: 'failed', tokens: 120, costUsd: 0.5 }),
      ['agent_sessions_total{"adapter":"claude-code","status":"failed"}=1', 'agent_failures_total{"adapter":"claude-code"}=1', 'agent_tokens_total{"adapter":"claude-code"}=120', 'agent_cost_usd_total{"adapter":"claude-code"}=0.5'],
    ],
    [ev('session.finished', { agent: 'scripted', status: 'completed', tokens: 0, costUsd: 0 }), ['agent_sessions_total{"adapter":"scripted","status":"completed"}=1']],
    [ev('notification.delivered', { channel: 'team', state: 'sent' }), ['notification_deliveries_total{"channel":"team","result":"sent"}=1']],
    [ev('notification.delivery_failed', { channel: 'team' }), ['notification_deliveries_total{"channel":"team","result":"failed"}=1']],
    [ev('run.failed', { idx: 2, kind: 'checks_exhausted' }), ['runs_finished_total{"state":"failed","failure":"checks_exhausted"}=1']],
    [ev('step.progress', { idx: 1 }), []],
  ];
  for (const [e, want] of cases) it(`${e.type} ${JSON.stringify(e.payload)}`, () => assert.deepEqual(counts(e), want));
  it('marks step starts and ends with the run and step index', () => {
    assert.deepEqual(observationsOf(ev('step.started', { idx: 3, kind: 'checks' }, { at: 5 })), [{ kind: 'step_start', key: 'r:3', stepKind: 'checks', at: 5 }]);
    assert.deepEqual(observationsOf(ev('step.done', { idx: 3, kind: 'checks' }, { at: 9 })), [{ kind: 'step_end', key: 'r:3', result: 'done', at: 9 }]);
  });
});

describe('log options', () => {
  const d = { file: '/h/logs/coordinator.log', fallback: 'file' as const, cwd: '/work' };
  const file = (path: string) => ({ kind: 'file', path, maxSize: '10M', keep: 5 });
  const cases: Array<[string, { log?: string; logLevel?: string }, NodeJS.ProcessEnv, unknown]> = [
    ['default: the rotated file', {}, {}, { level: 'info', destination: file('/h/logs/coordinator.log') }],
    ['under systemd: stdout', {}, { JOURNAL_STREAM: '8:123' }, { level: 'info', destination: { kind: 'stdout' } }],
    ['flag beats env', { log: 'stderr' }, { GANTRY_LOG: 'stdout' }, { level: 'info', destination: { kind: 'stderr' } }],
    ['env level', {}, { GANTRY_LOG: 'stdout', GANTRY_LOG_LEVEL: 'WARN' }, { level: 'warn', destination: { kind: 'stdout' } }],
    ['relative path', { log: 'logs/g.log' }, {}, { level: 'info', destination: file('/work/logs/g.log') }],
    ['rotation knobs', {}, { GANTRY_LOG_MAX_SIZE: '500k', GANTRY_LOG_KEEP: '2' }, { level: 'info', destination: { kind: 'file', path: '/h/logs/coordinator.log', maxSize: '500K', keep: 2 } }],
  ];
  for (const [name, flags, env, want] of cases) it(name, () => assert.deepEqual(resolveLogOptions(flags, env, d), want));
  const bad: Array<[{ log?: string; logLevel?: string }, NodeJS.ProcessEnv, RegExp]> = [
    [{ logLevel: 'loud' }, {}, /log level must be one of debug, info, warn, error, silent/],
    [{ log: 'syslog' }, {}, /--log must be stdout, stderr, file or a file path/],
    [{}, { GANTRY_LOG_MAX_SIZE: 'big' }, /GANTRY_LOG_MAX_SIZE/],
    [{}, { GANTRY_LOG_KEEP: '0' }, /GANTRY_LOG_KEEP/],
  ];
  for (const [flags, env, re] of bad) it(`refuses ${JSON.stringify({ ...flags, ...env })}`, () => assert.throws(() => resolveLogOptions(flags, env, d), re));
});

describe('logger', () => {
  it('writes JSON lines with level labels, ids as fields, and redacts secrets by path', () => {
    const lines: string[] = [];
    const log = jsonLogger((l) => lines.push(l));
    log.info('task claimed', { taskId: 't-1', epoch: 3, token: 'gnt_admin_SECRET', report: { body: 'SENTINEL body', prompt: 'SENTINEL prompt' } });
    log.child!({ component: 'http' }).warn('slow', { headers: { authorization: 'Bearer gnt_x' } });
    const [a, b] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(a!.level, 'info');
    assert.equal(a!.msg, 'task claimed');
    assert.equal(a!.taskId, 't-1');
    assert.equal(a!.token, '[redacted]');
    assert.deepEqual(a!.report, { body: '[redacted]', prompt: '[redacted]' });
    assert.equal(b!.component, 'http');
    assert.deepEqual(b!.headers, { authorization: '[redacted]' });
    assert.ok(!lines.join('').includes('SENTINEL') && !lines.join('').includes('gnt_'));
  });

  it('respects its level', () => {
    const lines: string[] = [];
    const log = jsonLogger((l) => lines.push(l), 'warn');
    log.info('quiet');
    log.error('loud');
    assert.equal(lines.length, 1);
  });

  it('rotates its file by size, keeping the configured number of old files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-log-'));
    try {
      const { logger, close } = createLogger({ level: 'info', destination: { kind: 'file', path: join(dir, 'coordinator.log'), maxSize: '1K', keep: 2 } });
      for (let i = 0; i < 60; i++) {
        logger.info('line', { i, pad: 'x'.repeat(100) });
        await new Promise((r) => setTimeout(r, 2));
      }
      await close();
      const files = readdirSync(dir).sort();
      assert.deepEqual(files, ['coordinator.log', 'coordinator.log.1', 'coordinator.log.2']);
      const lines = ['coordinator.log.2', 'coordinator.log.1', 'coordinator.log'].flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
      const seen = lines.map((l) => (JSON.parse(l) as { i: number }).i);
      assert.equal(seen.at(-1), 59, 'oldest to newest: .2, .1, then the live file');
      assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'lines stay whole and in order across rotations');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('failed-auth limiter', () => {
  it('blocks an address past its failures, but not a token that verified before', async () => {
    const l = new AuthLimiter({ failures: 3, windowSec: 60, blockSec: 60 });
    const [good, bad] = [l.keyOf('gnt_admin_good'), l.keyOf('gnt_bad')];
    assert.ok(!good.includes('gnt_'), 'the limiter keeps digests, not secrets');
    l.succeeded(good);
    for (let i = 0; i < 3; i++) {
      assert.equal(await l.retryAfterMs('1.2.3.4', bad), 0);
      await l.failed('1.2.3.4');
    }
    assert.equal(await l.retryAfterMs('1.2.3.4', bad), 0, 'at the limit, not past it');
    await l.failed('1.2.3.4');
    assert.ok((await l.retryAfterMs('1.2.3.4', bad)) > 0, 'blocked past the limit');
    assert.equal(await l.retryAfterMs('1.2.3.4', good), 0, 'a known-good token still passes');
    assert.equal(await l.retryAfterMs('5.6.7.8', bad), 0, 'other addresses are unaffected');
  });
});

describe('token files', () => {
  it('reads the first line of a token file; missing, empty and doubled sources are clear errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-tok-'));
    try {
      const f = join(dir, 'token');
      writeFileSync(f, 'gnt_viewer_abc\n', { mode: 0o600 });
      assert.equal(readTokenFile(f, '--token-file'), 'gnt_viewer_abc');
      assert.equal(resolveTarget({ url: 'http://x', tokenFile: f, home: dir }, {}).token, 'gnt_viewer_abc');
      assert.equal(resolveTarget({ url: 'http://x', home: dir }, { GANTRY_TOKEN_FILE: f }).token, 'gnt_viewer_abc');
      assert.equal(resolveTarget({ url: 'http://x', home: dir }, { GANTRY_TOKEN: 'gnt_env', GANTRY_TOKEN_FILE: f }).token, 'gnt_env', 'GANTRY_TOKEN before GANTRY_TOKEN_FILE');
      assert.throws(() => readTokenFile(join(dir, 'nope'), '--token-file'), /--token-file: .*nope does not exist/);
      writeFileSync(join(dir, 'empty'), '\n');
      assert.throws(() => readTokenFile(join(dir, 'empty'), 'GANTRY_TOKEN_FILE'), /GANTRY_TOKEN_FILE: .* is empty/);
      assert.throws(() => resolveTarget({ url: 'http://x', token: 'a', tokenFile: f, home: dir }, {}), /--token and --token-file both given/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
