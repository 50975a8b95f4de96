import { createReadStream, statSync, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';

/**
 * Serving the studio web app (apps/web/dist, built by `vite build`) from the gateway: its files at
 * `/`, and `index.html` for any other GET of a page (the app routes in the browser), never for the
 * API: paths under the reserved prefixes (/v1, /docs, /health, /ready) always go on to the routes,
 * so an unknown API path is still the API's 404, not the app.
 */
export const RESERVED_PREFIXES = ['/v1', '/docs', '/health', '/ready'] as const;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** The app may only talk to its own origin and (for the OIDC sign-in) the identity provider. */
export function contentSecurityPolicy(extraConnectSources: readonly string[]): string {
  return [
    "default-src 'self'",
    `connect-src 'self'${extraConnectSources.map((s) => ` ${s}`).join('')}`,
    "img-src 'self' data: blob:",
    "style-src 'self' 'unsafe-inline'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function isReservedPath(pathname: string): boolean {
  return RESERVED_PREFIXES.some((prefix) => pathname === prefix || pathname.startsWith(`${prefix}/`) || pathname.startsWith(`${prefix}-`));
}

function fileAt(path: string): Stats | null {
  try {
    const stats = statSync(path);
    return stats.isFile() ? stats : null;
  } catch {
    return null;
  }
}

export interface WebAppOptions {
  /** The built app (its index.html at the top). */
  root: string;
  /** Origins the app may fetch besides its own (the OIDC issuer's). */
  connectSources: readonly string[];
}

/**
 * A connect-style handler: answers a GET or HEAD of the app's files or of a page, calls `next()`
 * for everything else (other methods, reserved prefixes).
 */
export function webAppHandler(options: WebAppOptions): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  const root = resolve(options.root);
  const index = resolve(root, 'index.html');
  const csp = contentSecurityPolicy(options.connectSources);
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    let pathname: string;
    try {
      // Express strips a middleware's mount path from req.url; originalUrl is the request's own.
      const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
      pathname = decodeURIComponent(new URL(url, 'http://app').pathname);
    } catch {
      return next(); // a malformed escape: let the routes answer (404)
    }
    if (isReservedPath(pathname) || pathname.includes('\0')) return next();
    const candidate = resolve(root, `.${pathname}`);
    const inside = candidate === root || candidate.startsWith(root + sep);
    let path = inside ? candidate : index;
    let stats = inside ? fileAt(candidate) : null;
    if (!stats) {
      // A missing asset is a 404 (a stale bundle must not get HTML as JavaScript); a page is the app.
      if (pathname.startsWith('/assets/') || (extname(pathname) !== '' && extname(pathname) !== '.html')) return next();
      path = index;
      stats = fileAt(index);
      if (!stats) return next();
    }
    const type = CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
    res.statusCode = 200;
    res.setHeader('content-type', type);
    res.setHeader('content-length', String(stats.size));
    res.setHeader('x-content-type-options', 'nosniff');
    // Vite names its bundles by content hash: they never change; index.html always revalidates.
    res.setHeader('cache-control', path.startsWith(resolve(root, 'assets') + sep) ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (type.startsWith('text/html')) {
      res.setHeader('content-security-policy', csp);
      res.setHeader('referrer-policy', 'no-referrer');
    }
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(path)
      .on('error', () => res.destroy())
      .pipe(res);
  };
}
