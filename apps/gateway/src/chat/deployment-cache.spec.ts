import type { CurrentDeployment } from './chat-schemas';
import { DeploymentCache } from './deployment-cache';

function deployment(contextId: string, adapterId: string): CurrentDeployment {
  return {
    id: contextId,
    deploymentId: `dep-${adapterId}`,
    contextId,
    runId: `run-${adapterId}`,
    adapterId,
    adapterDir: `/artifacts/${adapterId}`,
    baseModel: 'tiny',
    datasetVersionId: 'dv-1',
    systemPrompt: 'You follow the policy.',
    audit: { auditRunId: 'audit-1', verdict: 'pass', stale: false },
    override: null,
    previousDeploymentId: null,
    deployedAt: '2026-01-01T00:00:00.000Z',
    deployedBy: { subject: 'key:op', name: 'op', role: 'operator' },
  };
}

/** The database behind the cache: what is stored per tenant/context, and every read. */
class Store {
  readonly rows = new Map<string, CurrentDeployment>();
  readonly reads: string[] = [];
  /** When set, reads wait for it (a slow database). */
  gate: Promise<void> | null = null;

  read = async (tenant: string, contextId: string): Promise<CurrentDeployment | null> => {
    this.reads.push(`${tenant}/${contextId}`);
    const row = this.rows.get(`${tenant}/${contextId}`) ?? null;
    if (this.gate) await this.gate;
    return row;
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('DeploymentCache', () => {
  let now: number;
  let store: Store;
  let cache: DeploymentCache;

  beforeEach(() => {
    now = 1_000;
    store = new Store();
    cache = new DeploymentCache(store.read, { maxAgeMs: 5_000, now: () => now });
  });

  it('reads a deployment once, then serves it without the database while it is younger than maxAgeMs / 2', async () => {
    store.rows.set('acme/ctx', deployment('ctx', 'a1'));
    expect((await cache.get('acme', 'ctx'))?.adapterId).toBe('a1');
    now += 2_499;
    store.rows.set('acme/ctx', deployment('ctx', 'a2'));
    expect((await cache.get('acme', 'ctx'))?.adapterId).toBe('a1');
    expect(store.reads).toEqual(['acme/ctx']);
  });

  it('past half its age serves the deployment it has and reads it again behind the chat; past maxAgeMs it waits for the database', async () => {
    store.rows.set('acme/ctx', deployment('ctx', 'a1'));
    await cache.get('acme', 'ctx');
    store.rows.set('acme/ctx', deployment('ctx', 'a2'));
    now += 2_500;
    expect((await cache.get('acme', 'ctx'))?.adapterId).toBe('a1');
    expect(store.reads.length).toBe(2);
    await settle();
    expect((await cache.get('acme', 'ctx'))?.adapterId).toBe('a2');

    // Another replica deploys a3; nothing is asked of this one until the entry is too old.
    store.rows.set('acme/ctx', deployment('ctx', 'a3'));
    store.gate = new Promise(() => undefined); // the database does not answer now
    now += 5_000;
    let answered = false;
    void cache.get('acme', 'ctx').then(() => (answered = true));
    await settle();
    expect(answered).toBe(false);
  });

  it('a deployment written elsewhere is served at the latest maxAgeMs after it was written', async () => {
    store.rows.set('acme/ctx', deployment('ctx', 'a1'));
    await cache.get('acme', 'ctx');
    for (let t = 0; t < 20_000; t += 250) {
      now += 250;
      if (t === 7_000) store.rows.set('acme/ctx', deployment('ctx', 'a2'));
      const served = (await cache.get('acme', 'ctx'))?.adapterId;
      await settle();
      if (t >= 7_000 + 5_000) expect(served).toBe('a2');
    }
  });

  it("serves this replica's own deployment at once, and a read that began before it cannot bring the old one back", async () => {
    store.rows.set('acme/ctx', deployment('ctx', 'a1'));
    let open: () => void = () => undefined;
    store.gate = new Promise((resolve) => (open = resolve));
    const before = cache.get('acme', 'ctx');
    cache.put('acme', deployment('ctx', 'a2'));
    open();
    expect((await before)?.adapterId).toBe('a1');
    store.gate = null;
    expect((await cache.get('acme', 'ctx'))?.adapterId).toBe('a2');
    expect(store.reads).toEqual(['acme/ctx']);
  });

  it('keeps no "not deployed": a deployment made anywhere is found by the next chat', async () => {
    expect(await cache.get('acme', 'ctx')).toBeNull();
    store.rows.set('acme/ctx', deployment('ctx', 'a1'));
    expect((await cache.get('acme', 'ctx'))?.adapterId).toBe('a1');
  });

  it("keeps tenants apart: another tenant's context of the same name is its own entry", async () => {
    store.rows.set('acme/ctx', deployment('ctx', 'a1'));
    await cache.get('acme', 'ctx');
    expect(await cache.get('globex', 'ctx')).toBeNull();
    expect(store.reads).toEqual(['acme/ctx', 'globex/ctx']);
  });

  it('shares one database read between the chats that wait for the same deployment', async () => {
    store.rows.set('acme/ctx', deployment('ctx', 'a1'));
    const all = await Promise.all([cache.get('acme', 'ctx'), cache.get('acme', 'ctx'), cache.get('acme', 'ctx')]);
    expect(all.map((d) => d?.adapterId)).toEqual(['a1', 'a1', 'a1']);
    expect(store.reads.length).toBe(1);
  });

  it('keeps at most maxEntries deployments, those read from the database longest ago going first', async () => {
    const small = new DeploymentCache(store.read, { maxAgeMs: 5_000, maxEntries: 2, now: () => now });
    for (const c of ['c1', 'c2', 'c3']) store.rows.set(`acme/${c}`, deployment(c, c));
    await small.get('acme', 'c1');
    await small.get('acme', 'c2');
    await small.get('acme', 'c3');
    expect(small.size).toBe(2);
    await small.get('acme', 'c2');
    await small.get('acme', 'c1');
    expect(store.reads).toEqual(['acme/c1', 'acme/c2', 'acme/c3', 'acme/c1']);
  });

  it('with maxAgeMs 0 reads the database for every chat; a negative or fractional age is refused', async () => {
    const off = new DeploymentCache(store.read, { maxAgeMs: 0 });
    store.rows.set('acme/ctx', deployment('ctx', 'a1'));
    await off.get('acme', 'ctx');
    await off.get('acme', 'ctx');
    expect(store.reads.length).toBe(2);
    expect(() => new DeploymentCache(store.read, { maxAgeMs: -1 })).toThrow(/maxAgeMs must be a whole number/);
    expect(() => new DeploymentCache(store.read, { maxAgeMs: 1.5 })).toThrow(/maxAgeMs must be a whole number/);
  });
});
