// The diff viewer's pure rules: the patch cut per file, the file tree, drafted line comments.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commentKey, putComment } from '../../web/src/ui/diff/comments.js';
import { fileTree, hasHunks, headerPath, languageOf, placeOf, splitPatch, startsCollapsed, type DiffEntry, type TreeNode } from '../../web/src/ui/diff/patch.js';
import { makeRepo } from '../support/git.js';

const entry = (path: string): DiffEntry => ({ path, status: 'modified', added: 1, removed: 0 });
const shape = (nodes: TreeNode[]): unknown[] => nodes.map((n) => (n.kind === 'dir' ? { [n.name]: shape(n.children) } : n.name));

describe('headerPath', () => {
  const cases: Array<[string, string | null]> = [
    ['diff --git a/README.md b/README.md', 'README.md'],
    ['diff --git a/src/a b/c.ts b/src/a b/c.ts', 'src/a b/c.ts'],
    ['diff --git "a/t\\303\\244st.txt" "b/t\\303\\244st.txt"', 'täst.txt'],
    ['diff --git "a/say \\"hi\\".txt" "b/say \\"hi\\".txt"', 'say "hi".txt'],
    ['--- a/README.md', null],
    ['diff --git a/x b/y', null],
  ];
  for (const [line, want] of cases) it(line, () => assert.equal(headerPath(line), want));
});

describe('splitPatch over a real git diff', () => {
  it('one chunk per file, named by its path, including quoted and binary ones', () => {
    const repo = makeRepo({ 'README.md': '# shop\n', 'old.txt': 'bye\n' });
    try {
      writeFileSync(join(repo, 'README.md'), '# shop\n\nCoupons.\n');
      writeFileSync(join(repo, 'täst.txt'), 'ä\n');
      writeFileSync(join(repo, 'logo.bin'), Buffer.from([0, 1, 2, 0, 255]));
      rmSync(join(repo, 'old.txt'));
      execFileSync('git', ['-C', repo, 'add', '-A']);
      const patch = execFileSync('git', ['-C', repo, 'diff', '--cached', '--no-color', '--no-renames'], { encoding: 'utf8' });
      const chunks = splitPatch(patch);
      assert.deepEqual([...chunks.keys()].sort(), ['README.md', 'logo.bin', 'old.txt', 'täst.txt']);
      assert.match(chunks.get('README.md')!, /^diff --git a\/README.md b\/README.md\n[\s\S]*\n\+Coupons\.\n$/);
      assert.ok(!chunks.get('README.md')!.includes('old.txt'), 'a chunk ends where the next file starts');
      assert.equal(hasHunks(chunks.get('README.md')), true);
      assert.equal(hasHunks(chunks.get('logo.bin')), false, 'a binary file has no lines to show');
      assert.equal(hasHunks(chunks.get('nope')), false);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
  it('an empty patch has no chunks', () => assert.equal(splitPatch('').size, 0));
});

describe('fileTree', () => {
  it('directories first, then files; single-child directory chains fold into one node', () => {
    const tree = fileTree(['web/src/ui/diff/patch.ts', 'web/src/ui/diff/View.tsx', 'README.md', 'src/a.ts', 'src/lib/b.ts', 'docs/x.md'].map(entry));
    assert.deepEqual(shape(tree), [{ docs: ['x.md'] }, { src: [{ lib: ['b.ts'] }, 'a.ts'] }, { 'web/src/ui/diff': ['View.tsx', 'patch.ts'] }, 'README.md']);
    const file = (tree[2] as Extract<TreeNode, { kind: 'dir' }>).children[1]!;
    assert.deepEqual([file.kind, file.path], ['file', 'web/src/ui/diff/patch.ts']);
  });
  it('no files, no nodes', () => assert.deepEqual(fileTree([]), []));
});

describe('drafted line comments', () => {
  it('one comment per line and side: a new body replaces it, an empty one removes it', () => {
    let list = putComment([], { path: 'a.ts', line: 3, side: 'new', body: ' first ' });
    list = putComment(list, { path: 'a.ts', line: 3, side: 'old', body: 'the removed line' });
    list = putComment(list, { path: 'a.ts', line: 3, side: 'new', body: 'second' });
    assert.deepEqual(list.map((c) => `${commentKey(c)}=${c.body}`), ['old:3:a.ts=the removed line', 'new:3:a.ts=second']);
    list = putComment(list, { path: 'a.ts', line: 3, side: 'old', body: '  ' });
    assert.deepEqual(list.map(commentKey), ['new:3:a.ts']);
  });
});

describe('startsCollapsed', () => {
  const cases: Array<[number | null, number | null, boolean]> = [[10, 5, false], [400, 0, false], [300, 101, true], [null, null, false]];
  for (const [added, removed, want] of cases) it(`+${added} −${removed} → ${want}`, () => assert.equal(startsCollapsed({ path: 'x', status: 'modified', added, removed }), want));
});

describe('languageOf', () => {
  const cases: Array<[string, string | null]> = [
    ['src/a.ts', 'typescript'], ['web/App.tsx', 'tsx'], ['x.mjs', 'javascript'], ['README.md', 'markdown'], ['.github/ci.yml', 'yaml'],
    ['Dockerfile', 'docker'], ['sub/Makefile', 'makefile'], ['a.py', 'python'], ['notes.txt', null], ['LICENSE', null],
  ];
  for (const [path, want] of cases) it(`${path} → ${want}`, () => assert.equal(languageOf(path), want));
});

describe('placeOf', () => {
  it('a removed line by its old number, an added or unchanged one by its new number', () => {
    assert.deepEqual(placeOf({ type: 'delete', lineNumber: 7 }), { line: 7, side: 'old' });
    assert.deepEqual(placeOf({ type: 'insert', lineNumber: 9 }), { line: 9, side: 'new' });
    assert.deepEqual(placeOf({ type: 'normal', oldLineNumber: 4, newLineNumber: 6 }), { line: 6, side: 'new' });
  });
});
