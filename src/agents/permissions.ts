// The permission policy an agent runs under, resolved from the project config. Pure.
// Default: edit files in the workspace and use an explicit tool allowlist. Permission checks are
// skipped only when the project config itself says `skipPermissions: true`.
import type { PermissionPolicy } from '../ports/agent.js';

export const DEFAULT_CLAUDE_ALLOWED_TOOLS = ['Read', 'Edit', 'Write', 'Glob', 'Grep', 'TodoWrite', 'Bash(git:*)'];

export interface PermissionConfig {
  mode?: 'edits' | 'readonly';
  allowedTools?: string[];
  skipPermissions?: boolean;
}

export function resolvePermissions(config: PermissionConfig | undefined): PermissionPolicy {
  return {
    mode: config?.mode ?? 'edits',
    allowedTools: config?.allowedTools ?? [],
    skipPermissions: config?.skipPermissions === true,
  };
}
