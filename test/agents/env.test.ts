import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentEnv } from '../../src/agents/process/env.js';

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
