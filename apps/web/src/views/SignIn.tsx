import { useEffect, useState, type FormEvent } from 'react';
import { ErrorBox } from '../components/ui';
import { Api, ApiError } from '../lib/api';
import { savePending } from '../lib/auth';
import type { AuthConfig } from '../lib/model';
import { authorizationUrl, randomToken, type PendingSignIn } from '../lib/pkce';

/** Sign-in: an API key (checked with GET /v1/me), or the OIDC provider (authorization code + PKCE). */
export function SignIn({ onKey, notice }: { onKey: (key: string) => Promise<void>; notice: string | null }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [config, setConfig] = useState<AuthConfig | null>(null);
  const [configError, setConfigError] = useState<unknown>(null);

  useEffect(() => {
    new Api({ token: () => null })
      .get<AuthConfig>('/v1/auth/config')
      .then(setConfig)
      // A gateway without the route has no single sign-on to offer: the key form is the way in.
      .catch((e: unknown) => (e instanceof ApiError && e.status === 404 ? setConfig({ oidc: null }) : setConfigError(e)));
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onKey(key.trim());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const oidc = config?.oidc ?? null;
  const startOidc = async () => {
    if (!oidc) return;
    const pending: PendingSignIn = {
      state: randomToken(),
      verifier: randomToken(48),
      nonce: randomToken(),
      redirectUri: `${location.origin}/auth/callback`,
      returnTo: '/',
    };
    savePending(pending);
    location.assign(await authorizationUrl(oidc, pending));
  };

  return (
    <main className="signin" aria-labelledby="signin-title">
      <h1 id="signin-title">Alignment Studio</h1>
      <p className="muted">Sign in to your tenant.</p>
      {notice ? (
        <p role="status" className="notice">
          {notice}
        </p>
      ) : null}
      <form onSubmit={submit} className="card" aria-label="Sign in with an API key">
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="sk-studio-…"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          required
        />
        <button type="submit" disabled={busy || key.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in with key'}
        </button>
        <ErrorBox error={error} what="signing in" />
      </form>
      {oidc ? (
        <div className="card">
          <p>
            Or sign in with your organisation’s identity provider <span className="muted">({oidc.issuer})</span>.
          </p>
          <button type="button" onClick={() => void startOidc()}>
            Sign in with single sign-on
          </button>
        </div>
      ) : null}
      {configError ? <ErrorBox error={configError} what="reading the sign-in options" /> : null}
    </main>
  );
}
