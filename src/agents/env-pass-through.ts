// Each agent's own variables that pass from Gantry's environment into the agent's (everything else
// is scrubbed; see process/env.ts): its auth, its endpoint, and its retry and timeout knobs, so an
// operator can point it at a gateway or shorten its retry loop. docs/agents.md lists the same names
// (test/agents/env.test.ts holds the two together).
export const ENV_PASS_THROUGH: Readonly<Record<string, readonly string[]>> = {
  'claude-code': [
    'ANTHROPIC_*', 'CLAUDE_CONFIG_DIR', 'CLAUDE_CODE_USE_BEDROCK', 'CLAUDE_CODE_USE_VERTEX', 'CLAUDE_CODE_SKIP_BEDROCK_AUTH', 'CLAUDE_CODE_SKIP_VERTEX_AUTH',
    'AWS_*', 'CLOUD_ML_REGION', 'VERTEX_REGION_*',
    'CLAUDE_CODE_MAX_RETRIES', 'API_TIMEOUT_MS', 'CLAUDE_STREAM_IDLE_TIMEOUT_MS', 'CLAUDE_CODE_MAX_OUTPUT_TOKENS', 'MAX_THINKING_TOKENS', 'BASH_DEFAULT_TIMEOUT_MS', 'BASH_MAX_TIMEOUT_MS',
    'DISABLE_TELEMETRY', 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC',
  ],
  codex: ['OPENAI_*', 'AZURE_OPENAI_*', 'CODEX_HOME'],
  gemini: [
    'GEMINI_*', 'GOOGLE_GEMINI_BASE_URL', 'GOOGLE_VERTEX_BASE_URL', 'GOOGLE_API_KEY', 'GOOGLE_CLOUD_PROJECT', 'GOOGLE_CLOUD_LOCATION',
    'GOOGLE_GENAI_USE_VERTEXAI', 'GOOGLE_GENAI_USE_GCA', 'GOOGLE_APPLICATION_CREDENTIALS',
  ],
  opencode: ['OPENCODE_*', 'ANTHROPIC_*', 'OPENAI_*', 'GEMINI_API_KEY', 'GOOGLE_GENERATIVE_AI_API_KEY', 'OPENROUTER_API_KEY'],
  aider: ['AIDER_*', 'ANTHROPIC_*', 'OPENAI_*', 'GEMINI_API_KEY', 'OPENROUTER_API_KEY', 'DEEPSEEK_API_KEY'],
};
