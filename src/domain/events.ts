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

/** True for events after which a queued task may exist that was not claimable before. */
export function addsQueuedWork(e: Pick<NewEvent, 'type' | 'payload'>): boolean {
  return e.type === 'task.unblocked' || e.payload?.stage === 'queued';
}
