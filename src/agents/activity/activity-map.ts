// Pure mappings from evidence to the activity axis. Hook names are Claude Code's (Codex uses the
// same names for the ones it has). A permission prompt is `blocked` (never inject input then).
import type { AgentActivity, AgentEvent } from '../../ports/agent.js';

export function hookActivity(payload: Record<string, unknown>): AgentActivity | null {
  switch (payload.hook_event_name) {
    case 'UserPromptSubmit':
    case 'PreToolUse':
    case 'PostToolUse':
    case 'PostToolUseFailure':
    case 'SubagentStart':
    case 'SubagentStop':
    case 'PreCompact':
      return 'working';
    case 'SessionStart':
    case 'Stop':
    case 'StopFailure':
    case 'PostCompact':
      return 'idle';
    case 'PermissionRequest':
      return 'blocked';
    case 'Notification': {
      const kind = typeof payload.notification_type === 'string' ? payload.notification_type : '';
      const msg = typeof payload.message === 'string' ? payload.message : '';
      if (kind === 'permission_prompt' || /permission/i.test(msg)) return 'blocked';
      if (kind === 'idle_prompt' || kind === 'elicitation_dialog') return 'waiting_input';
      return null;
    }
    default:
      return null; // SessionEnd and unknown hooks: liveness, not activity
  }
}

export function eventActivity(e: AgentEvent): AgentActivity | null {
  switch (e.type) {
    case 'session_started':
    case 'turn_started':
    case 'tool_use':
    case 'message':
    case 'notice': // retrying or rate limited: alive and still on the turn
      return 'working';
    case 'needs_input':
      return 'waiting_input';
    case 'turn_completed':
      return 'idle';
    default:
      return null; // errors and exit are judged by the lifecycle from the runtime axis
  }
}
