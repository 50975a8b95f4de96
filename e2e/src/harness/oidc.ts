import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@studio/testing';
import { freePort, WORKSPACE_ROOT } from './service-process';

/** A person who signs in at the provider; the tenant and the role travel in the access token's claims. */
export interface OidcAccount {
  username: string;
  password: string;
  name: string;
  email?: string;
  tenant: string;
  role: string;
}

/** A confidential client of the client-credentials grant, with the tenant and role its tokens carry. */
export interface OidcServiceClient {
  clientId: string;
  clientSecret: string;
  tenant: string;
  role: string;
  /** Its tokens' lifetime (default: the provider's). */
  accessTokenTtlSeconds?: number;
}

export interface OidcProviderOptions {
  accounts?: OidcAccount[];
  clients?: OidcServiceClient[];
  /** Default: a free loopback port (take one with `freePort()` first to give the gateway the issuer before the provider starts). */
  port?: number;
  /** The issuer it names (its tokens' iss), when not its own address http://127.0.0.1:<port>. */
  issuer?: string;
  /** The access tokens' aud (default urn:alignment-studio:gateway). */
  audience?: string;
  /** Access-token lifetime in seconds (default 900). */
  accessTokenTtlSeconds?: number;
  /** Redirect URIs of the web client `studio-web` (default http://127.0.0.1:3000/auth/callback). */
  redirectUris?: string[];
  /** Signing keys kept in this JWKS file across restarts (default: a new key at every start). */
  keysFile?: string;
}

export interface TokenSet {
  access_token: string;
  token_type: string;
  expires_in: number;
  id_token?: string;
  refresh_token?: string;
  scope?: string;
}

export const WEB_CLIENT_ID = 'studio-web';
export const DEFAULT_AUDIENCE = 'urn:alignment-studio:gateway';
const PROVIDER_SCRIPT = join(WORKSPACE_ROOT, 'deploy/local/oidc/provider.mjs');

/**
 * The gateway's OIDC variables for a provider that will listen on `port` (it may start after the
 * gateway: the gateway reads the discovery document on first use). Take the port with
 * `freePort()`, start the gateway with these, then `OidcProviderProcess.start({ port,
 * redirectUris: [<gateway URL>/auth/callback] })`.
 */
export function oidcGatewayEnv(port: number, options: { issuer?: string; audience?: string } = {}): Record<string, string> {
  const url = `http://127.0.0.1:${port}`;
  const issuer = options.issuer ?? url;
  return {
    OIDC_ISSUER: issuer,
    OIDC_AUDIENCE: options.audience ?? DEFAULT_AUDIENCE,
    OIDC_CLIENT_ID: WEB_CLIENT_ID,
    OIDC_CLOCK_TOLERANCE_MS: '0',
    // An issuer named otherwise than its address: the gateway reads it at its address.
    ...(issuer === url ? {} : { OIDC_DISCOVERY_URL: `${url}/.well-known/openid-configuration`, OIDC_JWKS_URL: `${url}/jwks` }),
  };
}

/** A cookie jar for one browser-like session (paths honoured, deletions applied). */
class CookieJar {
  private readonly cookies = new Map<string, { value: string; path: string }>();

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const attr = new Map(attributes.map((a) => [a.split('=')[0]?.toLowerCase() ?? '', a.slice(a.indexOf('=') + 1)]));
      const path = attr.get('path') ?? '/';
      const expires = attr.get('expires');
      const gone = value === '' || attr.get('max-age') === '0' || (expires !== undefined && Date.parse(expires) < Date.now());
      const key = `${name};${path}`;
      if (gone) this.cookies.delete(key);
      else this.cookies.set(key, { value, path });
    }
  }

  header(url: URL): string {
    return [...this.cookies.entries()]
      .filter(
        ([, cookie]) =>
          url.pathname === cookie.path || url.pathname.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`),
      )
      .map(([key, cookie]) => `${key.split(';')[0]}=${cookie.value}`)
      .join('; ');
  }
}

/**
 * The OpenID provider of deploy/local/oidc/provider.mjs as a child process on a loopback port:
 * real discovery, JWKS, authorization code + PKCE with its sign-in form, client credentials,
 * JWT access tokens for the gateway's audience, key rotation through its admin route.
 */
export class OidcProviderProcess {
  private child: ChildProcess | null = null;
  private output = '';
  /** Where it listens: http://127.0.0.1:<port>. */
  readonly url: string;
  readonly issuer: string;
  readonly audience: string;
  readonly redirectUris: string[];
  private readonly adminToken = randomBytes(24).toString('base64url');
  private readonly dir = mkdtempSync(join(tmpdir(), 'studio-oidc-'));
  private readonly configFile = join(this.dir, 'realm.json');

  private constructor(
    readonly port: number,
    private readonly options: OidcProviderOptions,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.issuer = options.issuer ?? this.url;
    this.audience = options.audience ?? DEFAULT_AUDIENCE;
    this.redirectUris = options.redirectUris ?? ['http://127.0.0.1:3000/auth/callback'];
    writeFileSync(this.configFile, JSON.stringify({ accounts: options.accounts ?? [], clients: options.clients ?? [] }, null, 2));
  }

  static async start(options: OidcProviderOptions = {}): Promise<OidcProviderProcess> {
    const provider = new OidcProviderProcess(options.port ?? (await freePort()), options);
    await provider.launch();
    return provider;
  }

  /** What the gateway needs to accept this provider's tokens. */
  gatewayEnv(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      ...oidcGatewayEnv(this.port, { issuer: this.issuer, audience: this.audience }),
      ...overrides,
    };
  }

  private async launch(): Promise<void> {
    this.output = '';
    const child = spawn(process.execPath, [PROVIDER_SCRIPT], {
      cwd: WORKSPACE_ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        OIDC_PROVIDER_HOST: '127.0.0.1',
        OIDC_PROVIDER_PORT: String(this.port),
        OIDC_PROVIDER_ISSUER: this.issuer,
        OIDC_PROVIDER_CONFIG: this.configFile,
        OIDC_PROVIDER_ADMIN_TOKEN: this.adminToken,
        OIDC_AUDIENCE: this.audience,
        OIDC_ACCESS_TOKEN_TTL: String(this.options.accessTokenTtlSeconds ?? 900),
        OIDC_WEB_CLIENT_ID: WEB_CLIENT_ID,
        OIDC_WEB_REDIRECT_URIS: this.redirectUris.join(','),
        ...(this.options.keysFile ? { OIDC_PROVIDER_KEYS_FILE: this.options.keysFile } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-20_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const result = await eventually(
      async () => {
        if (child.exitCode !== null) return 'exited' as const;
        const res = await fetch(`${this.url}/healthz`).catch(() => null);
        return res?.ok ? ('up' as const) : null;
      },
      20_000,
      100,
    ).catch((error: Error) => {
      throw new Error(`the OpenID provider did not start: ${error.message}\n${this.output}`);
    });
    if (result === 'exited') throw new Error(`the OpenID provider exited (${child.exitCode}):\n${this.output}`);
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  tail(): string {
    return `oidc-provider output:\n${this.output.split('\n').slice(-20).join('\n')}`;
  }

  /**
   * Signs in as a browser does: authorization request with PKCE (S256), the provider's sign-in
   * form, consent, the redirect with the code, the code exchanged at the token endpoint.
   */
  async signIn(username: string, password: string, options: { scope?: string; redirectUri?: string } = {}): Promise<TokenSet> {
    const redirectUri = options.redirectUri ?? this.redirectUris[0] ?? '';
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const state = randomBytes(12).toString('base64url');
    const jar = new CookieJar();
    const authorize = new URL(`${this.url}/auth`);
    authorize.search = new URLSearchParams({
      client_id: WEB_CLIENT_ID,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: options.scope ?? 'openid profile email',
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();

    let url = authorize;
    let init: RequestInit = {};
    for (let hop = 0; hop < 12; hop++) {
      const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers ?? {}), cookie: jar.header(url) } });
      jar.store(res);
      init = {};
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        let next = new URL(location, url);
        // Its own pages are named under the issuer's origin: reach them at its address.
        if (this.issuer !== this.url && next.origin === new URL(this.issuer).origin)
          next = new URL(`${next.pathname}${next.search}`, this.url);
        if (next.href.startsWith(redirectUri)) {
          await res.body?.cancel();
          const error = next.searchParams.get('error');
          if (error) throw new Error(`sign-in refused: ${error}: ${next.searchParams.get('error_description') ?? ''}`);
          if (next.searchParams.get('state') !== state) throw new Error('sign-in: the state came back changed');
          return this.exchange(next.searchParams.get('code') ?? '', verifier, redirectUri);
        }
        await res.body?.cancel();
        url = next;
        continue;
      }
      const html = await res.text();
      const form = /<form[^>]*action="([^"]+)"/.exec(html);
      if (!form?.[1] || !html.includes('name="password"'))
        throw new Error(
          `sign-in: expected the sign-in form, got ${res.status}: ${html
            .replace(/<[^>]+>/g, ' ')
            .replace(/\s+/g, ' ')
            .slice(0, 300)}`,
        );
      if (res.status === 401) throw new Error(`sign-in refused for ${username}: wrong username or password`);
      url = new URL(form[1].replace(/&amp;/g, '&'), url);
      init = {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username, password }).toString(),
      };
    }
    throw new Error('sign-in: too many redirects');
  }

  private async exchange(code: string, verifier: string, redirectUri: string): Promise<TokenSet> {
    const res = await fetch(`${this.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        client_id: WEB_CLIENT_ID,
        code_verifier: verifier,
      }),
    });
    const body = (await res.json()) as TokenSet & { error?: string; error_description?: string };
    if (!res.ok) throw new Error(`token exchange refused (${res.status}): ${body.error}: ${body.error_description}`);
    return body;
  }

  /** An access token of a confidential client (client-credentials grant). */
  async clientToken(clientId: string): Promise<string> {
    const client = this.options.clients?.find((c) => c.clientId === clientId);
    if (!client) throw new Error(`no client ${clientId} in this provider's configuration`);
    const res = await fetch(`${this.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api' }).toString(),
    });
    const body = (await res.json()) as TokenSet & { error?: string; error_description?: string };
    if (!res.ok) throw new Error(`client-credentials token refused (${res.status}): ${body.error}: ${body.error_description}`);
    return body.access_token;
  }

  /** A new signing key; the previous ones stay published (`keep`) or are withdrawn at once. */
  async rotateKeys(options: { keep?: boolean } = {}): Promise<{ signingKey: string; publishedKeys: string[] }> {
    const res = await fetch(`${this.url}/admin/rotate-keys?keep=${options.keep === true}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.adminToken}` },
    });
    if (!res.ok) throw new Error(`key rotation refused (${res.status}): ${await res.text()}`);
    return (await res.json()) as { signingKey: string; publishedKeys: string[] };
  }

  /** Stops the process and starts it again on the same port (a new signing key unless `keysFile` keeps them). */
  async restart(): Promise<void> {
    await this.halt();
    await this.launch();
  }

  private async halt(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  async stop(): Promise<void> {
    await this.halt();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
