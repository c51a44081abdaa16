import { useEffect, useState } from 'react';
import type { GantryEvent } from '../../api/types.js';
import { useSession } from '../../live/context.js';

/** The task's event log, loaded once then appended live from the stream. */
export function useTaskEvents(taskId: string): GantryEvent[] | null {
  const { api, live } = useSession();
  const [events, setEvents] = useState<GantryEvent[] | null>(null);
  useEffect(() => {
    let cancelled = false;
    const pending: GantryEvent[] = [];
    let loaded: GantryEvent[] | null = null;
    const merge = (list: GantryEvent[], more: GantryEvent[]) => {
      const last = list.length ? list[list.length - 1]!.seq : 0;
      return [...list, ...more.filter((e) => e.seq > last)];
    };
    const off = live.onEvent((e) => {
      if (e.taskId !== taskId) return;
      if (!loaded) pending.push(e);
      else setEvents((prev) => (loaded = merge(prev ?? [], [e])));
    });
    setEvents(null);
    api.taskEvents(taskId).then(
      (list) => {
        if (cancelled) return;
        loaded = merge(list, pending);
        setEvents(loaded);
      },
      () => !cancelled && setEvents([]),
    );
    return () => {
      cancelled = true;
      off();
    };
  }, [api, live, taskId]);
  return events;
}

