import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ErrorBox, Link, Loading, StudioContext, type Studio } from './components/ui';
import { Api, ApiError } from './lib/api';
import { loadSession, providerSignOutUrl, saveSession, type ProviderSignOutConfig, type StoredSession } from './lib/auth';
import type { Me } from './lib/model';
import type { TokenSet } from './lib/pkce';
import { match, navigate, useLocation } from './lib/router';
import { AuditView } from './views/Audit';
import { AuthCallback } from './views/AuthCallback';
import { ClausesView } from './views/Clauses';
import { CompareView } from './views/Compare';
import { ConceptsView, ConceptView } from './views/Concepts';
import { ContextsView } from './views/Contexts';
import { DatasetView } from './views/Dataset';
import { DatasetsView } from './views/Datasets';
import { DocumentsView } from './views/Documents';
import { FeedbackView } from './views/Feedback';
import { PreferencesView } from './views/Preferences';
import { RedTeamView } from './views/RedTeam';
import { ReviewView } from './views/Review';
import { RunView } from './views/Run';
import { RunsView } from './views/Runs';
import { SignIn } from './views/SignIn';

const CONTEXT_TABS = [
  ['documents', 'Documents'],
  ['clauses', 'Clauses'],
  ['concepts', 'Concepts'],
  ['datasets', 'Datasets'],
  ['review', 'Review'],
  ['runs', 'Runs'],
  ['compare', 'Compare'],
  ['feedback', 'Feedback'],
  ['preferences', 'Preferences'],
  ['red-team', 'Red team'],
] as const;

/** Tabs a role sees only with a permission (the red-team workspace is for those who may write attacks or read findings). */
const TAB_PERMISSION: Partial<Record<(typeof CONTEXT_TABS)[number][0], string>> = { 'red-team': 'redteam:write' };

export function App() {
  const { path } = useLocation();
  const [session, setSession] = useState<StoredSession | null>(() => loadSession());
  const [me, setMe] = useState<Me | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [meError, setMeError] = useState<unknown>(null);
  const sessionRef = useRef(session);
  sessionRef.current = session;

  const signOut = useCallback((reason?: string) => {
    saveSession(null);
    setSession(null);
    setMe(null);
    setNotice(reason ?? null);
    navigate('/signin');
  }, []);

  /**
   * The sign-out control: the studio's session ends at once; one from the OIDC provider ends
   * there too (RP-initiated logout), and the provider sends the browser back to /signin, so the
   * next sign-in asks for credentials again.
   */
  const signOutEverywhere = useCallback(async () => {
    const current = sessionRef.current;
    signOut();
    try {
      const url = await providerSignOutUrl(current, `${location.origin}/signin`, () =>
        new Api({ token: () => null }).get<{ oidc: ProviderSignOutConfig | null }>('/v1/auth/config'),
      );
      if (url) location.assign(url);
    } catch (e) {
      setNotice(
        `You are signed out of the studio, but not of your identity provider: ${e instanceof Error ? e.message : String(e)}. Sign out there, or close the browser.`,
      );
    }
  }, [signOut]);

  const api = useMemo(
    () =>
      new Api({
        token: () => sessionRef.current?.token ?? null,
        onUnauthorized: (e) => signOut(`Your session ended: ${e.detail}. Sign in again.`),
      }),
    [signOut],
  );

  const begin = useCallback(async (next: StoredSession) => {
    const probe = new Api({ token: () => next.token });
    const who = await probe.get<Me>('/v1/me');
    saveSession(next);
    setSession(next);
    setMe(who);
    setNotice(null);
  }, []);

  // A stored session: who is it (and is it still valid)?
  useEffect(() => {
    if (!session || me) return;
    api
      .get<Me>('/v1/me')
      .then(setMe)
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 401) return; // onUnauthorized signed out
        setMeError(e);
      });
  }, [api, session, me]);

  // An OIDC token ends at its expiry: sign out then rather than fail the next request.
  useEffect(() => {
    if (!session?.expiresAt) return;
    const timer = setTimeout(() => signOut('Your sign-in expired. Sign in again.'), Math.max(0, session.expiresAt - Date.now()));
    return () => clearTimeout(timer);
  }, [session, signOut]);

  const onKey = useCallback(
    async (key: string) => {
      await begin({ token: key, via: 'api-key', expiresAt: null });
      navigate('/', true);
    },
    [begin],
  );
  const onTokens = useCallback(
    async (tokens: TokenSet, returnTo: string) => {
      await begin({ token: tokens.accessToken, via: 'oidc', expiresAt: tokens.expiresAt, idToken: tokens.idToken });
      navigate(returnTo, true);
    },
    [begin],
  );

  if (path === '/auth/callback') return <AuthCallback onTokens={onTokens} />;
  if (!session) return <SignIn onKey={onKey} notice={notice} />;
  if (!me)
    return (
      <main className="signin">{meError ? <ErrorBox error={meError} what="reading who you are" /> : <Loading what="your account" />}</main>
    );

  const studio: Studio = { api, me, signOut };
  const context = /^\/contexts\/([^/]+)/.exec(path);
  const contextId = context ? decodeURIComponent(context[1] as string) : null;

  return (
    <StudioContext.Provider value={studio}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          Alignment Studio
        </Link>
        <span className="who" aria-label="Signed in as">
          <span data-testid="tenant">{me.tenant}</span> · <span>{me.name}</span> ·{' '}
          <span className="role" data-testid="role">
            {me.role}
          </span>
        </span>
        <button type="button" className="link" onClick={() => void signOutEverywhere()}>
          Sign out
        </button>
      </header>
      <div className="layout">
        <nav aria-label="Studio" className="side">
          <Link to="/" current={path === '/'}>
            Contexts
          </Link>
          {contextId ? (
            <>
              <p className="side-title" title={contextId}>
                {contextId}
              </p>
              <ul>
                {CONTEXT_TABS.filter(([tab]) => {
                  const needs = TAB_PERMISSION[tab];
                  return !needs || me.permissions.includes(needs);
                }).map(([tab, label]) => {
                  const to = `/contexts/${encodeURIComponent(contextId)}/${tab}`;
                  return (
                    <li key={tab}>
                      <Link to={to} current={path.startsWith(to)}>
                        {label}
                      </Link>
                    </li>
                  );
                })}
              </ul>
            </>
          ) : null}
        </nav>
        <main id="main" tabIndex={-1}>
          <Route path={path} />
        </main>
      </div>
    </StudioContext.Provider>
  );
}

function Route({ path }: { path: string }) {
  let m: Record<string, string> | null;
  if (path === '/' || path === '/signin') return <ContextsView />;
  if ((m = match('/contexts/:id', path))) return <DocumentsView contextId={m['id'] as string} />;
  if ((m = match('/contexts/:id/documents', path))) return <DocumentsView contextId={m['id'] as string} />;
  if ((m = match('/contexts/:id/clauses', path))) return <ClausesView contextId={m['id'] as string} />;
  if ((m = match('/contexts/:id/concepts', path))) return <ConceptsView contextId={m['id'] as string} />;
  if ((m = match('/contexts/:id/concepts/:conceptId', path)))
    return <ConceptView key={m['conceptId']} contextId={m['id'] as string} conceptId={m['conceptId'] as string} />;
  if ((m = match('/contexts/:id/review', path))) return <ReviewView contextId={m['id'] as string} datasetVersionId={null} />;
  if ((m = match('/contexts/:id/datasets', path))) return <DatasetsView contextId={m['id'] as string} />;
  if ((m = match('/contexts/:id/datasets/:v', path)))
    return <DatasetView contextId={m['id'] as string} datasetVersionId={m['v'] as string} />;
  if ((m = match('/contexts/:id/datasets/:v/review', path)))
    return <ReviewView contextId={m['id'] as string} datasetVersionId={m['v'] as string} />;
  if ((m = match('/contexts/:id/runs', path))) return <RunsView contextId={m['id'] as string} />;
  if ((m = match('/contexts/:id/runs/:runId', path))) return <RunView contextId={m['id'] as string} runId={m['runId'] as string} />;
  if ((m = match('/contexts/:id/runs/:runId/audit', path))) return <AuditView contextId={m['id'] as string} runId={m['runId'] as string} />;
  if ((m = match('/contexts/:id/compare', path))) return <CompareView contextId={m['id'] as string} />;
  if ((m = match('/contexts/:id/feedback', path))) return <FeedbackView contextId={m['id'] as string} />;
  if ((m = match('/contexts/:id/preferences', path))) return <PreferencesView contextId={m['id'] as string} />;
  if ((m = match('/contexts/:id/red-team', path))) return <RedTeamView contextId={m['id'] as string} />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        Nothing at <code>{path}</code>. <Link to="/">Back to the contexts</Link>.
      </p>
    </section>
  );
}
