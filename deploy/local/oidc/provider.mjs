#!/usr/bin/env node
// A real OpenID provider (the `oidc-provider` package) for local use and the tests: static
// accounts with tenant and role claims, a public authorization-code + PKCE client for the web
// app, confidential client-credentials clients for tests, JWT access tokens for the gateway's
// audience, a configurable access-token lifetime and signing-key rotation. See README.md here.
//
//   node deploy/local/oidc/provider.mjs            (settings: environment variables, README.md)
import { createServer } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes, randomUUID, timingSafeEqual, createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Provider, { errors } from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';
import { z } from 'zod';

const HERE = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

const csv = (value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

const absoluteUrl = (what) =>
  z.string().refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), `${what} must be an absolute http(s) URL`);

const Env = z.object({
  OIDC_PROVIDER_HOST: z.string().min(1).default('127.0.0.1').describe('address to listen on'),
  OIDC_PROVIDER_PORT: z.coerce.number().int().min(1).max(65535).default(4010).describe('port to listen on'),
  OIDC_PROVIDER_ISSUER: absoluteUrl('OIDC_PROVIDER_ISSUER').optional().describe('issuer URL (default http://localhost:<port>)'),
  OIDC_PROVIDER_CONFIG: z.string().min(1).default(join(HERE, 'accounts.json')).describe('JSON file with accounts and clients'),
  OIDC_AUDIENCE: z
    .string()
    .refine(
      (value) => URL.canParse(value),
      'OIDC_AUDIENCE must be an absolute URI (a resource indicator, RFC 8707), e.g. urn:alignment-studio:gateway',
    )
    .default('urn:alignment-studio:gateway')
    .describe("the gateway's audience: the aud of every access token"),
  OIDC_ACCESS_TOKEN_TTL: z.coerce.number().int().min(1).max(86_400).default(900).describe('access-token lifetime, seconds'),
  OIDC_WEB_CLIENT_ID: z.string().min(1).default('studio-web'),
  OIDC_WEB_REDIRECT_URIS: z
    .string()
    .default('http://localhost:3000/auth/callback,http://127.0.0.1:3000/auth/callback')
    .transform(csv)
    .pipe(z.array(absoluteUrl('each of OIDC_WEB_REDIRECT_URIS')).min(1, 'OIDC_WEB_REDIRECT_URIS needs at least one URL'))
    .describe('comma-separated redirect URIs of the web client'),
  OIDC_WEB_POST_LOGOUT_REDIRECT_URIS: z
    .string()
    .optional()
    .transform((value) => (value === undefined ? undefined : csv(value)))
    .pipe(
      z
        .array(absoluteUrl('each of OIDC_WEB_POST_LOGOUT_REDIRECT_URIS'))
        .min(1, 'OIDC_WEB_POST_LOGOUT_REDIRECT_URIS needs at least one URL')
        .optional(),
    )
    .describe(
      "comma-separated URIs the provider may send the browser back to after signing out (default: the web app's /signin on each redirect URI's origin)",
    ),
  OIDC_TENANT_CLAIM: z.string().min(1).default('tenant'),
  OIDC_ROLE_CLAIM: z.string().min(1).default('role'),
  OIDC_PROVIDER_ADMIN_TOKEN: z.string().min(16, 'OIDC_PROVIDER_ADMIN_TOKEN must be at least 16 characters').optional(),
  OIDC_PROVIDER_KEYS_FILE: z.string().min(1).optional().describe('JWKS file that keeps the signing keys across restarts'),
});

const Account = z.object({
  username: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'username: letters, digits, . _ @ - (at most 64)'),
  password: z.string().min(8, 'password must be at least 8 characters'),
  name: z.string().min(1),
  email: z.string().email().optional(),
  tenant: z.string().min(1),
  role: z.string().min(1),
});

const ServiceClient = z.object({
  clientId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'clientId: letters, digits, . _ - (at most 64)'),
  clientSecret: z.string().min(16, 'clientSecret must be at least 16 characters'),
  tenant: z.string().min(1),
  role: z.string().min(1),
  accessTokenTtlSeconds: z.number().int().min(1).max(86_400).optional(),
});

const Realm = z
  .object({
    accounts: z.array(Account).default([]),
    clients: z.array(ServiceClient).default([]),
  })
  .superRefine((realm, ctx) => {
    const seen = new Set();
    for (const [index, account] of realm.accounts.entries()) {
      if (seen.has(account.username))
        ctx.addIssue({ code: 'custom', path: ['accounts', index, 'username'], message: `duplicate username ${account.username}` });
      seen.add(account.username);
    }
    const ids = new Set();
    for (const [index, client] of realm.clients.entries()) {
      if (ids.has(client.clientId))
        ctx.addIssue({ code: 'custom', path: ['clients', index, 'clientId'], message: `duplicate clientId ${client.clientId}` });
      ids.add(client.clientId);
    }
  });

function fail(message) {
  process.stderr.write(`oidc-provider: ${message}\n`);
  process.exit(2);
}

function issuesOf(error) {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

const envResult = Env.safeParse(process.env);
if (!envResult.success) fail(`invalid settings: ${issuesOf(envResult.error)}`);
const env = envResult.data;
// Where the web app signs out to (RP-initiated logout's post_logout_redirect_uri): its sign-in
// page, on the origins it signs in from, unless set otherwise.
const POST_LOGOUT_REDIRECT_URIS = env.OIDC_WEB_POST_LOGOUT_REDIRECT_URIS ?? [
  ...new Set(env.OIDC_WEB_REDIRECT_URIS.map((uri) => new URL('/signin', uri).href)),
];
const ISSUER = (env.OIDC_PROVIDER_ISSUER ?? `http://localhost:${env.OIDC_PROVIDER_PORT}`).replace(/\/+$/, '');
const ISSUER_HOST = new URL(ISSUER).host;
if (new URL(ISSUER).pathname !== '/') fail(`OIDC_PROVIDER_ISSUER must have no path (got ${ISSUER})`);

function loadRealm(path) {
  let raw;
  try {
    raw = JSON.parse(readFileSync(resolve(path), 'utf8'));
  } catch (error) {
    fail(`cannot read OIDC_PROVIDER_CONFIG ${path}: ${error.message}`);
  }
  const result = Realm.safeParse(raw);
  if (!result.success) fail(`invalid OIDC_PROVIDER_CONFIG ${path}: ${issuesOf(result.error)}`);
  if (result.data.clients.some((client) => client.clientId === env.OIDC_WEB_CLIENT_ID))
    fail(`OIDC_PROVIDER_CONFIG ${path}: a client may not use the web client's id ${env.OIDC_WEB_CLIENT_ID}`);
  return result.data;
}

const realm = loadRealm(env.OIDC_PROVIDER_CONFIG);
const accounts = new Map(realm.accounts.map((account) => [account.username, account]));
const serviceClients = new Map(realm.clients.map((client) => [client.clientId, client]));

// ---------------------------------------------------------------------------------------------
// Signing keys: the first key of the set signs; the others are only published (for verifiers).
// ---------------------------------------------------------------------------------------------

async function newSigningKey() {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

async function initialKeys() {
  const file = env.OIDC_PROVIDER_KEYS_FILE;
  if (file && existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, 'utf8'));
    if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) fail(`OIDC_PROVIDER_KEYS_FILE ${file} holds no keys`);
    return parsed.keys;
  }
  const keys = [await newSigningKey()];
  if (file) writeFileSync(file, JSON.stringify({ keys }), { mode: 0o600 });
  return keys;
}

function saveKeys(keys) {
  if (env.OIDC_PROVIDER_KEYS_FILE) writeFileSync(env.OIDC_PROVIDER_KEYS_FILE, JSON.stringify({ keys }), { mode: 0o600 });
}

// ---------------------------------------------------------------------------------------------
// The provider
// ---------------------------------------------------------------------------------------------

const COOKIE_KEYS = [randomBytes(32).toString('base64url')];
const RESOURCE_SCOPE = 'api';

function claimsOf(account) {
  return {
    name: account.name,
    ...(account.email ? { email: account.email, email_verified: true } : {}),
    [env.OIDC_TENANT_CLAIM]: account.tenant,
    [env.OIDC_ROLE_CLAIM]: account.role,
  };
}

function buildProvider(keys) {
  const provider = new Provider(ISSUER, {
    clients: [
      {
        client_id: env.OIDC_WEB_CLIENT_ID,
        client_name: 'Alignment Studio',
        application_type: 'web',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: env.OIDC_WEB_REDIRECT_URIS,
        post_logout_redirect_uris: POST_LOGOUT_REDIRECT_URIS,
      },
      ...realm.clients.map((client) => ({
        client_id: client.clientId,
        client_secret: client.clientSecret,
        client_name: client.clientId,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      })),
    ],
    async findAccount(_ctx, sub) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...claimsOf(account) }) };
    },
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email', 'email_verified'],
      studio: [env.OIDC_TENANT_CLAIM, env.OIDC_ROLE_CLAIM],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'studio'],
    cookies: { keys: COOKIE_KEYS },
    jwks: { keys },
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      // RP-initiated logout at /session/end: the user is asked (the specification's SHOULD), on
      // the provider's own page (no external fonts), then sent to the client's registered URI.
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          const client = ctx.oidc.client;
          const from = client ? ` of ${escapeHtml(client.clientName ?? client.clientId)}` : '';
          ctx.type = 'html';
          ctx.body = page(
            'Sign out',
            `<h1>Sign out${from}?</h1>
<p>You will need your username and password to sign in again.</p>
${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>`,
          );
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = page('Signed out', '<h1>Signed out</h1><p role="status">You are signed out of the identity provider.</p>');
        },
      },
      resourceIndicators: {
        enabled: true,
        // Every token is for the gateway unless the client names another resource (there is none).
        defaultResource: async (_ctx, _client, oneOf) => oneOf ?? env.OIDC_AUDIENCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator, client) => {
          if (indicator !== env.OIDC_AUDIENCE)
            throw new errors.InvalidTarget(`unknown resource ${indicator}: the only resource is ${env.OIDC_AUDIENCE}`);
          return {
            audience: env.OIDC_AUDIENCE,
            scope: RESOURCE_SCOPE,
            accessTokenTTL: serviceClients.get(client.clientId)?.accessTokenTtlSeconds ?? env.OIDC_ACCESS_TOKEN_TTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    // The tenant and the role travel in every access token (the gateway reads them from there).
    async extraTokenClaims(_ctx, token) {
      if (token.accountId) {
        const account = accounts.get(token.accountId);
        return account ? claimsOf(account) : undefined;
      }
      const client = serviceClients.get(token.clientId);
      if (!client) return undefined;
      return { name: client.clientId, [env.OIDC_TENANT_CLAIM]: client.tenant, [env.OIDC_ROLE_CLAIM]: client.role };
    },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? env.OIDC_ACCESS_TOKEN_TTL,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? env.OIDC_ACCESS_TOKEN_TTL,
      IdToken: env.OIDC_ACCESS_TOKEN_TTL,
      Session: 8 * 3600,
      Grant: 8 * 3600,
      Interaction: 600,
      AuthorizationCode: 60,
      RefreshToken: 8 * 3600,
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page(
        'Sign-in error',
        `<h1>Sign-in error</h1><p role="alert">${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</p>`,
      );
    },
  });
  provider.on('server_error', (_ctx, error) => process.stderr.write(`oidc-provider: server error: ${error.stack ?? error}\n`));
  return provider;
}

let keys = await initialKeys();
let provider = buildProvider(keys);
let callback = provider.callback();

/** A new signing key; the previous ones stay published (`keep`) or are dropped at once. */
async function rotateKeys(keep) {
  const next = await newSigningKey();
  keys = keep ? [next, ...keys] : [next];
  saveKeys(keys);
  provider = buildProvider(keys);
  callback = provider.callback();
  return keys.map((key) => key.kid);
}

// ---------------------------------------------------------------------------------------------
// The sign-in page (authorization code + PKCE): a labelled form, usable with the keyboard.
// ---------------------------------------------------------------------------------------------

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function page(title, body) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}
main{max-width:24rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15)}
label{display:block;margin-top:1rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.5rem;margin-top:.25rem;font-size:1rem;border:1px solid #8a93a3;border-radius:4px}
input:focus,button:focus,a:focus{outline:3px solid #2257d6;outline-offset:2px}
button{margin-top:1.5rem;width:100%;padding:.6rem;font-size:1rem;background:#2257d6;color:#fff;border:0;border-radius:4px;cursor:pointer}
button.secondary{margin-top:.75rem;background:#fff;color:#2257d6;border:1px solid #2257d6}
.error{color:#a0161b;margin-top:1rem}
</style></head><body><main>${body}</main></body></html>`;
}

function loginPage(uid, clientName, { username = '', error = '' } = {}) {
  return page(
    'Sign in',
    `<h1>Sign in to ${escapeHtml(clientName)}</h1>
${error ? `<p class="error" role="alert" id="login-error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" required${username ? '' : ' autofocus'} value="${escapeHtml(username)}"${error ? ' aria-describedby="login-error"' : ''}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${username ? ' autofocus' : ''}>
<button type="submit">Sign in</button>
</form>
<p><a href="/interaction/${escapeHtml(uid)}/abort">Cancel</a></p>`,
  );
}

function passwordMatches(given, expected) {
  // Hash both sides: equal lengths for the constant-time compare.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16 * 1024) throw Object.assign(new Error('form too large'), { status: 413 });
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

/** Our clients are first-party: consent is granted for what the client asked. */
async function grantConsent(req, res, details) {
  const { prompt, grantId, session, params } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  if (prompt.details.missingResourceScopes)
    for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes))
      grant.addResourceScope(indicator, scopes.join(' '));
  const id = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId: id } }, { mergeWithLastSubmission: true });
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, 'text/plain', 'interaction mismatch');
  const client = await provider.Client.find(details.params.client_id);
  const clientName = client?.clientName ?? details.params.client_id;
  if (action === 'abort')
    return provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'the user cancelled the sign-in' },
      { mergeWithLastSubmission: false },
    );
  if (details.prompt.name === 'consent') return grantConsent(req, res, details);
  if (details.prompt.name !== 'login') return send(res, 501, 'text/plain', `prompt ${details.prompt.name} is not supported`);
  if (action === 'login' && req.method === 'POST') {
    const form = await readForm(req);
    const username = form.get('username') ?? '';
    const account = accounts.get(username);
    // Compare a password even for an unknown user: the answer takes as long either way.
    const ok = passwordMatches(form.get('password') ?? '', account?.password ?? randomUUID()) && account !== undefined;
    if (!ok)
      return send(res, 401, 'text/html; charset=utf-8', loginPage(uid, clientName, { username, error: 'Wrong username or password.' }));
    return provider.interactionFinished(req, res, { login: { accountId: account.username } }, { mergeWithLastSubmission: false });
  }
  return send(res, 200, 'text/html; charset=utf-8', loginPage(uid, clientName));
}

async function admin(req, res, path) {
  const header = req.headers['authorization'] ?? '';
  const token = env.OIDC_PROVIDER_ADMIN_TOKEN;
  const given = header.startsWith('Bearer ') ? header.slice(7) : '';
  if (!token)
    return send(res, 404, 'application/json', JSON.stringify({ error: 'administration is off (OIDC_PROVIDER_ADMIN_TOKEN unset)' }));
  if (!passwordMatches(given, token))
    return send(res, 401, 'application/json', JSON.stringify({ error: 'admin token required' }), { 'www-authenticate': 'Bearer' });
  if (path === '/admin/rotate-keys' && req.method === 'POST') {
    const keep = new URL(req.url, ISSUER).searchParams.get('keep') === 'true';
    const kids = await rotateKeys(keep);
    process.stdout.write(
      `oidc-provider: signing keys rotated (${keep ? 'previous keys kept' : 'previous keys dropped'}): ${kids.join(', ')}\n`,
    );
    return send(res, 200, 'application/json', JSON.stringify({ signingKey: kids[0], publishedKeys: kids }));
  }
  return send(res, 404, 'application/json', JSON.stringify({ error: `no admin route ${req.method} ${path}` }));
}

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', ISSUER).pathname;
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/.exec(path);
  const handle = async () => {
    if (path === '/healthz') return send(res, 200, 'application/json', JSON.stringify({ status: 'ok', issuer: ISSUER }));
    if (path.startsWith('/admin/')) return admin(req, res, path);
    if (match) return interaction(req, res, match[1], match[2]);
    // The endpoints it publishes are the issuer's, whichever name a client reached it by (a
    // gateway in the same network reads the discovery document at http://oidc:4010/...).
    req.headers.host = ISSUER_HOST;
    return callback(req, res);
  };
  handle().catch((error) => {
    const status = error.status ?? error.statusCode ?? 500;
    if (status >= 500) process.stderr.write(`oidc-provider: ${req.method} ${path}: ${error.stack ?? error}\n`);
    if (res.headersSent) return res.end();
    send(
      res,
      status,
      'text/html; charset=utf-8',
      page('Error', `<h1>Error</h1><p role="alert">${escapeHtml(error.error_description ?? error.message)}</p>`),
    );
  });
});

server.listen(env.OIDC_PROVIDER_PORT, env.OIDC_PROVIDER_HOST, () => {
  process.stdout.write(
    `oidc-provider: issuer ${ISSUER} listening on ${env.OIDC_PROVIDER_HOST}:${env.OIDC_PROVIDER_PORT}; audience ${env.OIDC_AUDIENCE}; ` +
      `web client ${env.OIDC_WEB_CLIENT_ID} (redirect URIs ${env.OIDC_WEB_REDIRECT_URIS.join(', ')}; after sign-out ${POST_LOGOUT_REDIRECT_URIS.join(', ')}); ` +
      `${accounts.size} accounts, ${serviceClients.size} service clients; access tokens live ${env.OIDC_ACCESS_TOKEN_TTL} s\n`,
  );
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
