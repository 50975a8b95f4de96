import { createServer, connect, type Server, type Socket } from 'node:net';
import { z } from 'zod';
import { tenantId } from '@studio/ports';
import { describeWithServers, uniqueName } from '@studio/testing';
import { connectMongo, type MongoDatabase } from './connection';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const OP_MSG = 2013;
/** Commands a stalled server still answers: the handshake and `ping`, what a ping-only probe sees. */
const ALWAYS_ANSWERED = new Set(['hello', 'ismaster', 'isMaster', 'ping', 'endSessions', 'buildInfo', 'saslStart', 'saslContinue']);

/** The command name of one OP_MSG (the first key of its body section), or null. */
function commandOf(message: Buffer): string | null {
  if (message.length < 27 || message.readInt32LE(12) !== OP_MSG || message[20] !== 0) return null;
  const end = message.indexOf(0, 26);
  return end < 0 ? null : message.toString('utf8', 26, end);
}

/**
 * A TCP proxy in front of the MongoDB server that, while `stalled`, swallows every command but the
 * handshake and `ping`: the server looks alive, and every query of a collection hangs, as the
 * framer's database did when FerretDB had used up its SQLite connections.
 */
class StallingProxy {
  stalled = false;
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  constructor(private readonly upstream: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    return address.port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const server = connect(this.upstream.port, this.upstream.host);
    for (const socket of [client, server]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        server.destroy();
      });
    }
    server.pipe(client);
    let pending = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
        const length = pending.readInt32LE(0);
        const message = pending.subarray(0, length);
        pending = pending.subarray(length);
        const command = commandOf(message);
        if (this.stalled && !(command !== null && ALWAYS_ANSWERED.has(command))) continue; // never answered
        server.write(message);
      }
    });
  }
}

const Note = z.object({ id: z.string(), text: z.string() });

describeWithServers(['MONGO_URL'], "MongoDatabase readiness reads the service's own collections", ({ MONGO_URL }) => {
  let proxy: StallingProxy;
  let db: MongoDatabase;

  beforeAll(async () => {
    const url = new URL(MONGO_URL);
    proxy = new StallingProxy({ host: url.hostname, port: Number(url.port || 27017) });
    const port = await proxy.listen();
    db = await connectMongo(
      `mongodb://127.0.0.1:${port}/?directConnection=true`,
      uniqueName('ready').replace(/[^A-Za-z0-9_-]/g, '_'),
      silent,
    );
    await db.repository({ collection: 'notes', schema: Note }).upsert(tenantId('acme'), { id: 'n-1', text: 'hello' });
  });

  afterAll(async () => {
    proxy.stalled = false;
    await db?.connection.dropDatabase().catch(() => undefined);
    await db?.close();
    await proxy?.close();
  });

  it('is ready when its collections answer, naming the database', async () => {
    await expect(db.checkReady(1_000)).resolves.toMatch(new RegExp(`^database ${db.dbName}: 1 collection read in \\d+ ms$`));
  });

  it('fails within its limit while ping still answers, when queries of its collections hang', async () => {
    proxy.stalled = true;
    try {
      await expect(db.ping()).resolves.toBeUndefined(); // what the old probe saw: healthy

      const started = Date.now();
      const probe = db.checkReady(500);
      await expect(probe).rejects.toThrow(
        new RegExp(`mongo database "${db.dbName}": reading collection "notes" failed after \\d+ ms \\(limit 500 ms\\)`),
      );
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      proxy.stalled = false;
    }
  });

  it('is ready again once the database answers', async () => {
    await expect(db.checkReady(2_000)).resolves.toMatch(/1 collection read/);
  });

  it('without repositories, reads the collections the database has', async () => {
    const other = await connectMongo(MONGO_URL, db.dbName, silent);
    try {
      await expect(other.checkReady(1_000)).resolves.toMatch(/: 1 collection read/);
    } finally {
      await other.close();
    }
  });
});
