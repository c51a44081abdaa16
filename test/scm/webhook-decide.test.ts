// Table tests for the pure webhook deciders and the signature check.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concerns, decideWebhook, deliveryRepository, parseDelivery, parseSignatureHeader, projectRepository, wakeTarget, type WakeTarget, type WakeTopic } from '../../src/domain/forge/webhook.js';
import { repoFromRemote } from '../../src/domain/forge/verdicts.js';
import { webhookSecrets } from '../../src/scm/webhook-secret.js';
import { signBody, verifySignature } from '../../src/scm/webhook-signature.js';

describe('decideWebhook', () => {
  const table: Array<[string | undefined, string]> = [
    ['check_run', 'wake'], ['check_suite', 'wake'], ['status', 'wake'], ['pull_request_review', 'wake'], ['pull_request', 'wake'],
    ['ping', 'ping'], ['issues', 'issues'], ['push', 'ignore'], ['', 'ignore'], [undefined, 'ignore'],
  ];
  for (const [event, want] of table) it(`${String(event)} → ${want}`, () => assert.equal(decideWebhook(event).type, want));
});

describe('signature', () => {
  it('parses only sha256=<64 hex>', () => {
    assert.equal(parseSignatureHeader(`sha256=${'A'.repeat(64)}`), 'a'.repeat(64));
    for (const bad of [undefined, '', 'sha256=', `sha1=${'a'.repeat(40)}`, `sha256=${'a'.repeat(63)}`, `sha256=${'g'.repeat(64)}`]) assert.equal(parseSignatureHeader(bad), null, String(bad));
  });
  it('verifies GitHub\'s documented example', () => {
    // From docs.github.com "Validating webhook deliveries": secret "It's a Secret to Everybody", payload "Hello, World!".
    const want = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    assert.equal(signBody("It's a Secret to Everybody", 'Hello, World!'), want);
    assert.equal(verifySignature("It's a Secret to Everybody", Buffer.from('Hello, World!'), want), true);
    assert.equal(verifySignature("It's a Secret to Everybody", Buffer.from('Hello, World?'), want), false);
    assert.equal(verifySignature('', Buffer.from('Hello, World!'), want), false);
  });
});

describe('the repository a delivery is about, and a project\'s', () => {
  it('reads repository.full_name (lower-cased) from JSON and from the form content type; nothing else decides', () => {
    const json = '{"repository":{"full_name":"Acme/App"}}';
    const parsed = parseDelivery(json, 'application/json');
    assert.ok(parsed.ok);
    assert.equal(deliveryRepository(parsed.payload), 'acme/app');
    const form = parseDelivery(`payload=${encodeURIComponent(json)}`, 'application/x-www-form-urlencoded; charset=utf-8');
    assert.ok(form.ok);
    assert.equal(deliveryRepository(form.payload), 'acme/app');
    for (const [text, type] of [['not json', 'application/json'], ['x=1', 'application/x-www-form-urlencoded'], ['payload=%7B', 'application/x-www-form-urlencoded']] as const) {
      assert.equal(parseDelivery(text, type).ok, false, text);
    }
    for (const payload of [null, 'x', {}, { repository: 'acme/app' }, { repository: { full_name: 7 } }, { repository: { full_name: '' } }]) {
      assert.equal(deliveryRepository(payload), null, JSON.stringify(payload));
    }
  });
  it('a project\'s repository: scm.github.repo, else its remote', () => {
    const table: [Record<string, unknown>, string, string | null][] = [
      [{ scm: { github: { repo: 'Acme/B' } } }, 'https://github.com/acme/a.git', 'acme/b'],
      [{ scm: { github: {} } }, 'git@github.com:Acme/A.git', 'acme/a'],
      [{}, 'https://github.com/acme/a', 'acme/a'],
      [{}, '/srv/git/a', null],
    ];
    for (const [config, remote, want] of table) assert.equal(projectRepository(config, remote, repoFromRemote), want, remote);
  });
});

describe('webhookSecrets: a project\'s secret for its own repository only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-whs-'));
  writeFileSync(join(dir, 'a'), 'sa\n');
  writeFileSync(join(dir, 'b'), 'sb\n');
  const project = (file: string, remote: string, repo?: string) => ({ path: dir, remote, config: { scm: { adapter: 'github', github: { webhookSecretFile: file, ...(repo ? { repo } : {}) } } } });
  const projects = [project('a', 'https://github.com/acme/a.git'), project(join(dir, 'b'), '/srv/b', 'acme/b'), project('missing', 'https://github.com/acme/c.git')];
  it('answers per repository', () => {
    const table: [string | null, string[]][] = [['acme/a', ['sa']], ['ACME/B', ['sb']], ['acme/c', []], ['someone/else', []], [null, []]];
    for (const [repo, want] of table) assert.deepEqual(webhookSecrets(projects, repo, {}), { secrets: want, configured: true }, String(repo));
    assert.deepEqual(webhookSecrets([], 'acme/a', {}), { secrets: [], configured: false });
  });
  it('the process-wide secret is valid for every repository (and one that names none)', () => {
    for (const repo of ['acme/a', 'someone/else', null]) assert.deepEqual(webhookSecrets(projects, repo, { GANTRY_GITHUB_WEBHOOK_SECRET: ' env ' }), { secrets: ['env'], configured: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
});

describe('wakeTarget and concerns: a delivery wakes only the polls it is about', () => {
  const repository = { full_name: 'Acme/App' };
  it('reads branches, pull numbers and heads from each change event', () => {
    const table: [string, unknown, WakeTarget][] = [
      ['pull_request', { repository, number: 4, pull_request: { number: 4, head: { ref: 'gantry/t1', sha: 'A'.repeat(40) } } }, { repo: 'acme/app', branches: ['gantry/t1'], pulls: [4], shas: ['a'.repeat(40)] }],
      ['pull_request_review', { repository, pull_request: { number: 5, head: { ref: 'gantry/t2' } } }, { repo: 'acme/app', branches: ['gantry/t2'], pulls: [5], shas: [] }],
      ['check_run', { repository, check_run: { head_sha: 'b'.repeat(40), check_suite: { head_branch: 'gantry/t3' }, pull_requests: [{ number: 6, head: { ref: 'gantry/t3' } }] } }, { repo: 'acme/app', branches: ['gantry/t3'], pulls: [6], shas: ['b'.repeat(40)] }],
      ['check_suite', { repository, check_suite: { head_sha: 'c'.repeat(40), head_branch: null, pull_requests: [] } }, { repo: 'acme/app', branches: [], pulls: [], shas: ['c'.repeat(40)] }],
      ['status', { repository, sha: 'd'.repeat(40), branches: [{ name: 'gantry/t4' }, { name: 'main' }] }, { repo: 'acme/app', branches: ['gantry/t4', 'main'], pulls: [], shas: ['d'.repeat(40)] }],
      ['pull_request', { action: 'x' }, { repo: null, branches: [], pulls: [], shas: [] }],
    ];
    for (const [event, payload, want] of table) assert.deepEqual(wakeTarget(event, payload), want, event);
  });
  it('decides which sleeping polls a delivery concerns', () => {
    const t = (o: Partial<WakeTarget>): WakeTarget => ({ repo: 'acme/app', branches: [], pulls: [], shas: [], ...o });
    const poll: WakeTopic = { repo: 'Acme/App', branch: 'gantry/t1', pull: '4', headSha: 'a'.repeat(40) };
    const table: [string, WakeTopic | undefined, WakeTarget | undefined, boolean][] = [
      ['its branch', poll, t({ branches: ['gantry/t1'] }), true],
      ['its pull request', poll, t({ pulls: [4] }), true],
      ['its head', poll, t({ shas: ['a'.repeat(40)] }), true],
      ['another pull request', poll, t({ branches: ['gantry/t2'], pulls: [5], shas: ['b'.repeat(40)] }), false],
      ['another repository, same branch', poll, t({ repo: 'acme/other', branches: ['gantry/t1'] }), false],
      ['its repository, naming nothing finer', poll, t({}), true],
      ['another repository, naming nothing finer', poll, t({ repo: 'acme/other' }), false],
      ['no repository in the delivery, its branch', poll, t({ repo: null, branches: ['gantry/t1'] }), true],
      ['a poll that says nothing of itself', undefined, t({ pulls: [5] }), true],
      ['a wake with no target (all)', poll, undefined, true],
    ];
    for (const [name, topic, target, want] of table) assert.equal(concerns(topic, target), want, name);
  });
});
