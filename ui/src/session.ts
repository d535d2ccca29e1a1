import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export type Role = 'admin' | 'agent' | 'viewer';

export interface SessionState {
  email: string;
  role: Role;
  /** Agents and admins change things; viewers only look. */
  canWrite: boolean;
}

export const SessionContext = createContext<SessionState>({ email: '', role: 'viewer', canWrite: false });

export function useSession(): SessionState {
  return useContext(SessionContext);
}
