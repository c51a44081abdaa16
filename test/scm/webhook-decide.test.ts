// Table tests for the pure webhook deciders and the signature check.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideWebhook, parseSignatureHeader } from '../../src/domain/forge/webhook.js';
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
