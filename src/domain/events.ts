// The event log's record shape. Payloads never carry prompts, task bodies or tokens (invariant 9).
export interface EventRefs {
  taskId?: string | null;
  runId?: string | null;
  sessionId?: string | null;
}

export interface NewEvent extends EventRefs {
  type: string;
  payload?: Record<string, unknown>;
}

export interface GantryEvent {
  seq: number;
  type: string;
  taskId: string | null;
  runId: string | null;
  sessionId: string | null;
  payload: Record<string, unknown>;
  at: number;
}
