// The systemd units in docs/operating.md are what operators copy: each must pass
// `systemd-analyze verify` with no warning (skipped, saying why, where systemd is not installed).
// The binary they start is swapped for one that exists here; everything else is checked as written.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DOC = new URL('../../docs/operating.md', import.meta.url);
const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const missing = analyze.error ? 'systemd-analyze is not installed (apt-get install systemd)' : false;

/** Each ```ini block of the page whose first line names a unit file. */
function units(): Array<{ name: string; text: string }> {
  const md = readFileSync(DOC, 'utf8');
  return [...md.matchAll(/```ini\n# \/etc\/systemd\/system\/(\S+)\n([\s\S]*?)```/g)].map((m) => ({ name: m[1]!, text: m[2]! }));
}

describe('systemd units in docs/operating.md', () => {
  it('documents a coordinator unit and a factory template', () => {
    assert.deepEqual(units().map((u) => u.name), ['gantry.service', 'gantry-factory@.service']);
    for (const u of units()) {
      assert.doesNotMatch(u.text, /--token(?!-file)\b/, `${u.name} puts no token on the command line`);
      assert.match(u.text, /^KillSignal=SIGTERM$/m);
    }
  });

  it('each passes systemd-analyze verify without a warning', { skip: missing }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-units-'));
    try {
      const files = units().map((u) => {
        // A template is verified as an instance; the binary is one that exists on this host.
        const file = join(dir, u.name.replace('@.service', '@build-1.service'));
        writeFileSync(file, u.text.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`));
        return file;
      });
      const r = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
      const out = `${r.stdout}${r.stderr}`.trim();
      assert.equal(r.status, 0, out);
      assert.equal(out, '', 'no warnings');
      // The check can fail: a mistyped key is reported.
      writeFileSync(files[0]!, readFileSync(files[0]!, 'utf8').replace('Restart=on-failure', 'Restart=sometimes'));
      const bad = spawnSync('systemd-analyze', ['verify', files[0]!], { encoding: 'utf8' });
      assert.match(`${bad.stdout}${bad.stderr}`, /restart specifier/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
