// Pure deciders of `gantry project add <url>` (src/app/remote-project.ts), as tables.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chooseBase, nameFromRemote, normalizeRemote, parseLsRemote } from '../../src/app/remote-project.js';

const SHA = 'a'.repeat(40);

describe('remote project deciders', () => {
  it('nameFromRemote: the last path segment without .git', () => {
    for (const [remote, name] of [
      ['https://git.example.com/team/app.git', 'app'],
      ['https://u:tok@git.example.com/team/app', 'app'],
      ['git@github.com:team/my.app.git', 'my.app'],
      ['/srv/git/service.git/', 'service'],
      ['ssh://host/x/we ird.git', 'we-ird'],
      ['https://host/', 'host'],
    ] as const) assert.equal(nameFromRemote(remote), name, remote);
  });

  it('normalizeRemote: URLs and absolute paths as given, relative paths resolved', () => {
    assert.equal(normalizeRemote('https://h/a.git', '/w'), 'https://h/a.git');
    assert.equal(normalizeRemote('git@h:a.git', '/w'), 'git@h:a.git');
    assert.equal(normalizeRemote('/srv/a.git', '/w'), '/srv/a.git');
    assert.equal(normalizeRemote('../a.git', '/w/x'), '/w/a.git');
  });

  it('parseLsRemote: HEAD symref and branches; tags and other refs ignored', () => {
    const out = [`ref: refs/heads/trunk\tHEAD`, `${SHA}\tHEAD`, `${SHA}\trefs/heads/trunk`, `${SHA}\trefs/heads/feat/x`, `${SHA}\trefs/tags/v1`, `${SHA}\trefs/pull/1/head`].join('\n');
    assert.deepEqual(parseLsRemote(out), { head: 'trunk', branches: ['trunk', 'feat/x'] });
    assert.deepEqual(parseLsRemote(''), { head: undefined, branches: [] });
  });

  it('chooseBase: the wanted branch, else HEAD, else main, else the first; unknown or none is an error with a remedy', () => {
    const ls = (head: string | undefined, ...branches: string[]) => ({ head, branches });
    assert.deepEqual(chooseBase(ls('trunk', 'trunk', 'dev'), 'dev'), { base: 'dev' });
    assert.deepEqual(chooseBase(ls('trunk', 'trunk', 'dev'), undefined), { base: 'trunk' });
    assert.deepEqual(chooseBase(ls(undefined, 'dev', 'main'), undefined), { base: 'main' });
    assert.deepEqual(chooseBase(ls(undefined, 'dev'), undefined), { base: 'dev' });
    assert.deepEqual(chooseBase(ls('main', 'main', 'dev'), 'nope'), { error: 'branch nope does not exist on the remote', hint: 'pass --base with one of: main, dev' });
    assert.match((chooseBase(ls(undefined), undefined) as { error: string }).error, /no branches/);
  });
});
