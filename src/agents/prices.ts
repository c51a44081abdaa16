// What a turn costs when the agent CLI reports tokens but no cost (Codex, Gemini CLI): list prices
// in USD per million tokens, by model name, shipped with Gantry and overridable per agent in
// gantry.yaml (`agents.<id>.price`). Pure: table-tested. A CLI's own cost always wins.
import type { TokenUsage } from '../ports/agent.js';

export interface Price {
  inputPerMTok: number;
  outputPerMTok: number;
  /** Cached input tokens (default: the input price). */
  cachedInputPerMTok?: number;
}

/** First match wins: model-name pattern → price. Reviewed against the vendors' list prices. */
export const PRICE_TABLE: readonly (readonly [RegExp, Price])[] = [
  [/opus/i, { inputPerMTok: 15, outputPerMTok: 75, cachedInputPerMTok: 1.5 }],
  [/sonnet/i, { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3 }],
  [/haiku/i, { inputPerMTok: 1, outputPerMTok: 5, cachedInputPerMTok: 0.1 }],
  [/gpt-5.*mini/i, { inputPerMTok: 0.25, outputPerMTok: 2, cachedInputPerMTok: 0.025 }],
  [/gpt-5|codex/i, { inputPerMTok: 1.25, outputPerMTok: 10, cachedInputPerMTok: 0.125 }],
  [/gpt-4\.1/i, { inputPerMTok: 2, outputPerMTok: 8, cachedInputPerMTok: 0.5 }],
  [/gemini.*flash/i, { inputPerMTok: 0.3, outputPerMTok: 2.5, cachedInputPerMTok: 0.075 }],
  [/gemini/i, { inputPerMTok: 1.25, outputPerMTok: 10, cachedInputPerMTok: 0.31 }],
];

/** The model each CLI uses when none is configured (for pricing only). */
export const DEFAULT_MODELS: Readonly<Record<string, string>> = {
  'claude-code': 'claude-sonnet',
  codex: 'gpt-5-codex',
  gemini: 'gemini-2.5-pro',
  opencode: 'claude-sonnet',
  aider: 'claude-sonnet',
};

export function priceFor(agent: string, model: string | undefined, override?: Price): Price | null {
  if (override) return override;
  const name = model ?? DEFAULT_MODELS[agent];
  if (!name) return null;
  return PRICE_TABLE.find(([re]) => re.test(name))?.[1] ?? null;
}

/** USD for a turn's usage at a price (cached input tokens are part of the input tokens, billed at the cached rate). */
export function costOf(usage: TokenUsage, price: Price): number {
  const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
  const fresh = usage.inputTokens - cached;
  const usd = (fresh * price.inputPerMTok + cached * (price.cachedInputPerMTok ?? price.inputPerMTok) + usage.outputTokens * price.outputPerMTok) / 1_000_000;
  return Math.round(usd * 1e8) / 1e8;
}
