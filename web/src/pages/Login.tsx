import { useState } from 'react';
import { Api, ApiError } from '../api/client.js';

export function Login({ onToken, reason }: { onToken(token: string): void; reason: string | null }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(reason);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    const t = token.trim();
    if (!t) return;
    setBusy(true);
    setError(null);
    try {
      await new Api(t).whoami();
      onToken(t);
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? 'That token was not accepted.' : `Cannot reach the coordinator: ${(e as Error).message}`);
      setBusy(false);
    }
  };
  return (
    <main className="login">
      <form
        className="login-card"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <h1>
          <span className="logo" aria-hidden="true" /> Gantry
        </h1>
        <p>Sign in with an API token. The local admin token is in <code>~/.gantry/admin.token</code> (or <code>&lt;home&gt;/admin.token</code>).</p>
        <label className="field">
          <span>Token</span>
          <input name="token" type="password" autoComplete="current-password" autoFocus value={token} onChange={(e) => setToken(e.target.value)} placeholder="gnt_admin_…" />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || !token.trim()}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
