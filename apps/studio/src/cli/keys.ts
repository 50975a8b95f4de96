import { parseArgs } from 'node:util';
import { InputError } from './args';

export const KEY_ROLES = ['viewer', 'curator', 'red-teamer', 'operator', 'admin'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:3000';

export const KEYS_USAGE = `usage: studio keys create --name <name> --role <role> [--tenant <id> --admin-key <key> | --key <key>]
       studio keys list [--key <key>]
       studio keys revoke <keyId> [--key <key>]
       studio keys role <keyId> <role> [--key <key>]

Manages a tenant's API keys through the gateway. A key is shown once, when it is created.

  --gateway <url>     the gateway (default: $STUDIO_GATEWAY_URL, else ${DEFAULT_GATEWAY_URL})
  --key <key>         an admin API key of the tenant (default: $STUDIO_API_KEY); the tenant is the key's
  --admin-key <key>   the platform administration key (default: $STUDIO_ADMIN_KEY): creates a tenant's
                      first key, with --tenant; only "create" takes it
  --tenant <id>       the tenant of a key created with --admin-key
  --name <name>       who or what will use the key
  --role <role>       ${KEY_ROLES.join(', ')}
  --json              print the gateway's answer as JSON`;

export type KeysCommand =
  | { command: 'create'; name: string; role: KeyRole; tenant: string | null }
  | { command: 'list' }
  | { command: 'revoke'; keyId: string }
  | { command: 'role'; keyId: string; role: KeyRole };

export interface KeysArgs {
  action: KeysCommand;
  gateway: string;
  credential: { kind: 'key'; key: string } | { kind: 'admin'; adminKey: string };
  json: boolean;
}

function role(value: string | undefined, what: string): KeyRole {
  if (value === undefined) throw new InputError(`missing ${what}: one of ${KEY_ROLES.join(', ')}`);
  if (!(KEY_ROLES as readonly string[]).includes(value))
    throw new InputError(`unknown role "${value}": expected one of ${KEY_ROLES.join(', ')}`);
  return value as KeyRole;
}

function keyId(value: string | undefined): string {
  if (value === undefined) throw new InputError('missing key id (the "id" that "studio keys list" shows)');
  if (!/^[0-9a-f]{16}$/.test(value)) throw new InputError(`"${value}" is not a key id: 16 hex digits, as "studio keys list" shows`);
  return value;
}

/** Parses `studio keys ...` (argv after "keys"); throws InputError naming the problem. */
export function parseKeysArgs(argv: readonly string[], env: Record<string, string | undefined>): KeysArgs {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        gateway: { type: 'string' },
        key: { type: 'string' },
        'admin-key': { type: 'string' },
        tenant: { type: 'string' },
        name: { type: 'string' },
        role: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new InputError((error as Error).message);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const str = (name: string) => (typeof v[name] === 'string' ? (v[name] as string) : undefined);
  const [command, ...rest] = parsed.positionals;
  const extra = (allowed: number) => {
    if (rest.length > allowed) throw new InputError(`unexpected arguments: ${rest.slice(allowed).join(' ')}`);
  };
  let action: KeysCommand;
  switch (command) {
    case 'create': {
      extra(0);
      const name = str('name');
      if (!name || name.trim() === '') throw new InputError('missing --name: who or what will use the key');
      action = { command, name, role: role(str('role'), '--role'), tenant: str('tenant') ?? null };
      break;
    }
    case 'list':
      extra(0);
      action = { command };
      break;
    case 'revoke':
      extra(1);
      action = { command, keyId: keyId(rest[0]) };
      break;
    case 'role':
      extra(2);
      action = { command, keyId: keyId(rest[0]), role: role(rest[1], 'role') };
      break;
    case undefined:
      throw new InputError('missing command: expected create, list, revoke or role');
    default:
      throw new InputError(`unknown command "keys ${command}": expected create, list, revoke or role`);
  }
  const adminKey = str('admin-key') ?? (action.command === 'create' ? env['STUDIO_ADMIN_KEY'] : undefined);
  const key = str('key') ?? env['STUDIO_API_KEY'];
  if (str('admin-key') !== undefined && action.command !== 'create')
    throw new InputError(
      `--admin-key creates a tenant's first key only; "keys ${action.command}" needs an admin API key of the tenant (--key)`,
    );
  if (str('admin-key') !== undefined && str('key') !== undefined) throw new InputError('give --key or --admin-key, not both');
  let credential: KeysArgs['credential'];
  if (action.command === 'create' && adminKey !== undefined && str('key') === undefined) {
    if (action.tenant === null) throw new InputError('--admin-key needs --tenant: the tenant the new key belongs to');
    credential = { kind: 'admin', adminKey };
  } else {
    if (key === undefined) throw new InputError('missing --key (or $STUDIO_API_KEY): an admin API key of the tenant');
    if (action.command === 'create' && action.tenant !== null)
      throw new InputError("--tenant goes with --admin-key only: a key's own tenant is the tenant of --key");
    credential = { kind: 'key', key };
  }
  const gateway = (str('gateway') ?? env['STUDIO_GATEWAY_URL'] ?? DEFAULT_GATEWAY_URL).replace(/\/+$/, '');
  try {
    const url = new URL(gateway);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new InputError(`--gateway must be an http(s) URL such as ${DEFAULT_GATEWAY_URL} (got "${gateway}")`);
  }
  return { action, gateway, credential, json: v['json'] === true };
}

/** A refusal or failure of the gateway: its status and what it said. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

interface KeyView {
  id: string;
  tenant: string;
  name: string;
  role: string;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  key?: string;
}

export interface KeysIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  fetch?: typeof fetch;
}

async function request(args: KeysArgs, io: KeysIo, method: string, path: string, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> =
    args.credential.kind === 'key' ? { authorization: `Bearer ${args.credential.key}` } : { 'x-admin-key': args.credential.adminKey };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await (io.fetch ?? fetch)(`${args.gateway}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new GatewayError(0, `the gateway at ${args.gateway} does not answer: ${cause ?? (error as Error).message}`);
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const detail = (parsed as { detail?: unknown } | null)?.detail;
    throw new GatewayError(res.status, `the gateway answered ${res.status}: ${typeof detail === 'string' ? detail : text.slice(0, 300)}`);
  }
  return parsed;
}

function table(keys: KeyView[]): string {
  const rows = [['ID', 'NAME', 'ROLE', 'CREATED', 'REVOKED'], ...keys.map((k) => [k.id, k.name, k.role, k.createdAt, k.revokedAt ?? '-'])];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return (
    rows
      .map((r) =>
        r
          .map((cell, i) => cell.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** Runs `studio keys ...`: 0 done, 1 the gateway refused or failed, 2 bad input. */
export async function runKeysCommand(argv: readonly string[], env: Record<string, string | undefined>, io: KeysIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${KEYS_USAGE}\n`);
    return 0;
  }
  let args: KeysArgs;
  try {
    args = parseKeysArgs(argv, env);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    io.stderr.write(`studio keys: ${error.message}\n${KEYS_USAGE}\n`);
    return 2;
  }
  const action = args.action;
  try {
    let answer: unknown;
    switch (action.command) {
      case 'create':
        answer =
          args.credential.kind === 'admin'
            ? await request(args, io, 'POST', `/v1/admin/tenants/${encodeURIComponent(action.tenant ?? '')}/keys`, {
                name: action.name,
                role: action.role,
              })
            : await request(args, io, 'POST', '/v1/keys', { name: action.name, role: action.role });
        break;
      case 'list':
        answer = await request(args, io, 'GET', '/v1/keys');
        break;
      case 'revoke':
        answer = await request(args, io, 'DELETE', `/v1/keys/${action.keyId}`);
        break;
      case 'role':
        answer = await request(args, io, 'PATCH', `/v1/keys/${action.keyId}`, { role: action.role });
        break;
    }
    if (args.json) {
      io.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
      return 0;
    }
    if (action.command === 'list') {
      io.stdout.write(table((answer as { keys: KeyView[] }).keys));
      return 0;
    }
    const key = answer as KeyView;
    if (action.command === 'create') {
      io.stdout.write(`${key.key ?? ''}\n`);
      io.stderr.write(
        `created key ${key.id} "${key.name}" of tenant ${key.tenant} with role ${key.role}: the key above is shown this once\n`,
      );
    } else if (action.command === 'revoke') io.stdout.write(`revoked key ${key.id} "${key.name}" (${key.revokedAt ?? ''})\n`);
    else io.stdout.write(`key ${key.id} "${key.name}" now has role ${key.role}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    io.stderr.write(`studio keys: ${error.message}\n`);
    return 1;
  }
}
