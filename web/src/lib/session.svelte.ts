/**
 * Who is signed in. Any 401 from the API (see api.ts) brings the console
 * back to the login page with a sentence saying why.
 */
import { api, setPasswordChangeRequiredHandler, setUnauthorizedHandler, type User } from './api';

export type SessionStatus = 'checking' | 'anonymous' | 'signed-in';
/** Why the login page is shown, when it is not the first visit. */
export type SessionNotice = 'expired' | 'unreachable' | null;

export const session = $state<{ status: SessionStatus; user: User | null; notice: SessionNotice }>({
  status: 'checking',
  user: null,
  notice: null,
});

setUnauthorizedHandler(() => {
  if (session.status !== 'signed-in') return;
  session.user = null;
  session.status = 'anonymous';
  session.notice = 'expired';
});

// The console shows only the password change while the server asks for it (App.svelte).
setPasswordChangeRequiredHandler(() => {
  if (session.user && !session.user.mustChangePassword) session.user = { ...session.user, mustChangePassword: true };
});

/** At startup: reuse the cookie session when there is one, so the login page is skipped. */
export async function restoreSession(): Promise<void> {
  try {
    const user = await api.currentUser();
    session.user = user;
    session.status = user ? 'signed-in' : 'anonymous';
    session.notice = null;
  } catch {
    session.user = null;
    session.status = 'anonymous';
    session.notice = 'unreachable';
  }
}

/** Throws ApiError on failure; the login page turns it into a sentence. */
export async function signIn(username: string, password: string): Promise<void> {
  const { user } = await api.login(username, password);
  session.user = user;
  session.status = 'signed-in';
  session.notice = null;
}

/** After the password change: a session that had to change it may now do everything else. */
export function passwordChanged(): void {
  if (session.user) session.user = { ...session.user, mustChangePassword: false };
}

export async function signOut(): Promise<void> {
  try {
    await api.logout();
  } catch {
    // Even if the server is unreachable, forget the session here.
  }
  session.user = null;
  session.status = 'anonymous';
  session.notice = null;
}
