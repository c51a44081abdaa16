import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { agentEnv } from '../../src/agents/process/env.js';
import { ENV_PASS_THROUGH } from '../../src/agents/env-pass-through.js';

describe('agent environment', () => {
  const parent = {
    PATH: '/usr/bin',
    HOME: '/home/u',
    LC_ALL: 'C.UTF-8',
    CLAUDECODE: '1',
    CLAUDE_CODE_ENTRYPOINT: 'cli',
    GANTRY_TOKEN: 'admin-secret',
    GANTRY_DATABASE_URL: 'postgres://x',
    DATABASE_URL: 'postgres://app',
    AWS_SECRET_ACCESS_KEY: 'aws',
    ANTHROPIC_API_KEY: 'sk-ant',
    ANTHROPIC_BASE_URL: 'http://127.0.0.1:1',
    OPENAI_API_KEY: 'sk-oai',
    GITHUB_TOKEN: 'gh',
  };

  const cases: [string, string[], Record<string, string>, string[], string[]][] = [
    ['base only', [], {}, ['PATH', 'HOME', 'LC_ALL'], ['CLAUDECODE', 'GANTRY_TOKEN', 'ANTHROPIC_API_KEY', 'GITHUB_TOKEN', 'DATABASE_URL']],
    ['claude passes its own auth and endpoint', ['ANTHROPIC_*'], {}, ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL'], ['OPENAI_API_KEY', 'CLAUDE_CODE_ENTRYPOINT', 'CLAUDECODE']],
    ['codex passes only OpenAI', ['OPENAI_*'], {}, ['OPENAI_API_KEY'], ['ANTHROPIC_API_KEY', 'AWS_SECRET_ACCESS_KEY']],
    ['a pass-through list cannot re-admit denied names', ['CLAUDE*', 'GANTRY_*'], {}, [], ['CLAUDECODE', 'GANTRY_TOKEN', 'GANTRY_DATABASE_URL']],
    ['the per-session hook token is added explicitly', [], { GANTRY_HOOK_TOKEN: 'per-session' }, ['GANTRY_HOOK_TOKEN'], ['GANTRY_TOKEN']],
  ];
  for (const [name, pass, add, present, absent] of cases) {
    it(name, () => {
      const env = agentEnv(parent, { passThrough: pass }, add);
      for (const k of present) assert.ok(k in env, `${k} should pass`);
      for (const k of absent) assert.ok(!(k in env), `${k} must not pass`);
    });
  }
});

describe('per-adapter pass-through (ENV_PASS_THROUGH, listed in docs/agents.md)', () => {
  const parent: Record<string, string> = {
    PATH: '/usr/bin',
    GANTRY_TOKEN: 'admin', DATABASE_URL: 'postgres://app', GITHUB_TOKEN: 'gh',
    ANTHROPIC_API_KEY: 'a', ANTHROPIC_BASE_URL: 'http://a', CLAUDE_CODE_MAX_RETRIES: '1', API_TIMEOUT_MS: '5000', CLAUDE_STREAM_IDLE_TIMEOUT_MS: '5000',
    OPENAI_API_KEY: 'o', OPENAI_BASE_URL: 'http://o', CODEX_HOME: '/c',
    GEMINI_API_KEY: 'g', GOOGLE_GEMINI_BASE_URL: 'http://g', GOOGLE_API_KEY: 'k',
    OPENCODE_CONFIG: '/oc', OPENROUTER_API_KEY: 'r',
  };
  const cases: [string, string[], string[]][] = [
    ['claude-code', ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'CLAUDE_CODE_MAX_RETRIES', 'API_TIMEOUT_MS', 'CLAUDE_STREAM_IDLE_TIMEOUT_MS'], ['OPENAI_API_KEY', 'GEMINI_API_KEY', 'GOOGLE_GEMINI_BASE_URL']],
    ['codex', ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'CODEX_HOME'], ['ANTHROPIC_API_KEY', 'API_TIMEOUT_MS', 'GEMINI_API_KEY']],
    ['gemini', ['GEMINI_API_KEY', 'GOOGLE_GEMINI_BASE_URL', 'GOOGLE_API_KEY'], ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'CLAUDE_CODE_MAX_RETRIES']],
    ['opencode', ['OPENCODE_CONFIG', 'ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY', 'OPENROUTER_API_KEY'], ['GOOGLE_GEMINI_BASE_URL', 'CODEX_HOME', 'CLAUDE_CODE_MAX_RETRIES']],
  ];
  for (const [id, present, absent] of cases) {
    it(`${id} gets its own auth, endpoint, retry and timeout variables, nothing else`, () => {
      const env = agentEnv(parent, { passThrough: ENV_PASS_THROUGH[id]! });
      for (const k of present) assert.equal(env[k], parent[k], `${k} should pass to ${id}`);
      for (const k of [...absent, 'GANTRY_TOKEN', 'DATABASE_URL', 'GITHUB_TOKEN']) assert.ok(!(k in env), `${k} must not pass to ${id}`);
    });
  }
  it('docs/agents.md lists exactly each adapter\'s pass-through names', () => {
    const doc = readFileSync(new URL('../../docs/agents.md', import.meta.url), 'utf8');
    for (const [id, names] of Object.entries(ENV_PASS_THROUGH)) {
      const line = new RegExp(`^  - ${id}: (.*)$`, 'm').exec(doc)?.[1] ?? '';
      const listed = [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
      assert.deepEqual(listed, [...names], `docs/agents.md pass-through line for ${id}`);
    }
  });
});
