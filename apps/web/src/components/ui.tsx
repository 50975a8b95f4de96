import { createContext, useCallback, useContext, useEffect, useRef, useState, type MouseEvent, type ReactNode } from 'react';
import { ApiError, type Api } from '../lib/api';
import type { Me } from '../lib/model';
import { navigate } from '../lib/router';

export interface Studio {
  api: Api;
  me: Me;
  signOut: (reason?: string) => void;
}

export const StudioContext = createContext<Studio | null>(null);

export function useStudio(): Studio {
  const studio = useContext(StudioContext);
  if (!studio) throw new Error('useStudio outside the signed-in app');
  return studio;
}

/** An in-app link: a real <a href> (keyboard, middle-click) that navigates without a reload. */
export function Link({ to, children, className, current }: { to: string; children: ReactNode; className?: string; current?: boolean }) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={onClick} className={className} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}

/** An error, said in the server's words, announced to screen readers. */
export function ErrorBox({ error, what }: { error: unknown; what?: string }) {
  if (!error) return null;
  const status = error instanceof ApiError ? error.status : null;
  const detail = error instanceof ApiError ? error.detail : error instanceof Error ? error.message : String(error);
  const refused = status === 403;
  return (
    <div role="alert" className={`error ${refused ? 'refused' : ''}`} data-status={status ?? ''}>
      <strong>{refused ? 'Not allowed' : status === 401 ? 'Not signed in' : 'Error'}</strong>
      {what ? ` — ${what}` : ''}
      {status ? ` (HTTP ${status})` : ''}: {detail}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p role="status" className="muted">
      Loading {what}…
    </p>
  );
}

export interface AsyncState<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when its dependencies change (and on reload()), keeping the last data while reloading. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): AsyncState<T> {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    loadRef
      .current(controller.signal)
      .then((data) => !controller.signal.aborted && setState({ data, error: null, loading: false }))
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setState((s) => ({ data: s.data, error, loading: false }));
      });
    return () => controller.abort();
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function formatTime(iso: string | undefined | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function percent(value: number | null | undefined, digits = 0): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : `${(value * 100).toFixed(digits)} %`;
}

/** A clause reference as "§3.2.1", whether or not the reference carries its "§" already. */
export function section(ref: string): string {
  return ref.startsWith('§') ? ref : `§${ref}`;
}

export function shortId(id: string): string {
  return id.length > 14 ? `${id.slice(0, 12)}…` : id;
}

export function KindBadge({ kind }: { kind: string }) {
  return <span className={`kind kind-${kind}`}>{kind}</span>;
}
