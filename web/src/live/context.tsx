// The signed-in session: the API client and the live store, shared by every page.
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { Api } from '../api/client.js';
import type { LiveState, LiveStore } from './store.js';

export interface Session {
  api: Api;
  live: LiveStore;
  who: { name?: string; role?: string };
  logout(): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in app');
  return s;
}

export function useLive(): LiveState {
  const { live } = useSession();
  return useSyncExternalStore(live.subscribe, live.getState);
}
