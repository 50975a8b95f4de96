/**
 * What the gateway's credential check costs per request: GET /v1/me (API key looked up in the
 * gateway's MongoDB on every request, permission checked) against GET /health (no guard), on one
 * gateway started in this process against the local servers (MONGO_URL, REDIS_URL, KAFKA_BROKERS:
 * `source .data/local/env.sh`). Prints p50 and p99 of each and of the difference.
 *
 *   npm run bench:auth-overhead [-- --requests 2000]
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { createServiceApp, loadServiceConfig, startServiceApp } from '@studio/nest';
import { createConnection } from 'mongoose';
import { gatewayService } from '../../apps/gateway/src/gateway.service';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

async function timed(url: string, headers: Record<string, string>, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '2000' } } });
  const n = Number(values.requests);
  const run = `bench_auth_${process.pid}`;
  for (const variable of ['MONGO_URL', 'REDIS_URL', 'KAFKA_BROKERS'])
    if (!process.env[variable]) throw new Error(`${variable} is not set: source .data/local/env.sh first`);
  const adminKey = 'bench-administration-key-0123456789';
  const config = loadServiceConfig(gatewayService, {
    ...process.env,
    PORT: '3999',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    MONGO_DB: run,
    KAFKA_TOPIC_PREFIX: `${run}.`,
    ADMIN_API_KEY: adminKey,
  });
  const app = await createServiceApp(gatewayService, config);
  const base = await startServiceApp(app, config);
  try {
    const created = await fetch(`${base}/v1/admin/tenants/bench/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-admin-key': adminKey },
      body: JSON.stringify({ name: 'bench', role: 'viewer' }),
    });
    const { key } = (await created.json()) as { key: string };
    const auth = { authorization: `Bearer ${key}` };
    await timed(`${base}/v1/me`, auth, 200); // warm-up
    await timed(`${base}/health`, {}, 200);
    const health = await timed(`${base}/health`, {}, n);
    const me = await timed(`${base}/v1/me`, auth, n);
    const row = (what: string, t: number[]) =>
      `${what.padEnd(34)} p50 ${quantile(t, 0.5).toFixed(2)} ms  p99 ${quantile(t, 0.99).toFixed(2)} ms`;
    console.log(`${n} sequential requests each`);
    console.log(row('GET /health (no guard)', health));
    console.log(row('GET /v1/me (API key, Mongo lookup)', me));
    console.log(
      `credential check overhead: p50 ${(quantile(me, 0.5) - quantile(health, 0.5)).toFixed(2)} ms, p99 ${(quantile(me, 0.99) - quantile(health, 0.99)).toFixed(2)} ms`,
    );
  } finally {
    await app.close();
    const mongo = await createConnection(process.env['MONGO_URL'] as string).asPromise();
    await mongo.useDb(run).dropDatabase();
    await mongo.close();
  }
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
