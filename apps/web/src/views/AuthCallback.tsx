import { useEffect, useRef, useState } from 'react';
import { ErrorBox, Link } from '../components/ui';
import { Api } from '../lib/api';
import { takePending } from '../lib/auth';
import type { AuthConfig } from '../lib/model';
import { exchangeCode, SignInError, type PendingSignIn, type TokenSet } from '../lib/pkce';

/** The OIDC redirect target: checks state, trades the code (with the PKCE verifier) for an access token. */
export function AuthCallback({ onTokens }: { onTokens: (tokens: TokenSet, returnTo: string) => Promise<void> }) {
  const [error, setError] = useState<unknown>(null);
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return; // React's strict mode runs effects twice; a code is used once
    started.current = true;
    (async () => {
      const config = await new Api({ token: () => null }).get<AuthConfig>('/v1/auth/config');
      if (!config.oidc) throw new SignInError('single sign-on is not configured on this gateway');
      const pending = takePending<PendingSignIn>();
      const tokens = await exchangeCode(config.oidc, pending, new URLSearchParams(location.search));
      await onTokens(tokens, pending?.returnTo ?? '/');
    })().catch(setError);
  }, [onTokens]);
  return (
    <main className="signin">
      <h1>Signing in…</h1>
      {error ? (
        <>
          <ErrorBox error={error} what="single sign-on" />
          <Link to="/signin">Back to sign-in</Link>
        </>
      ) : (
        <p role="status">Completing the sign-in with your identity provider…</p>
      )}
    </main>
  );
}
