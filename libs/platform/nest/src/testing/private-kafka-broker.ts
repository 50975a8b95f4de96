import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';

/**
 * A single-node Kafka (KRaft) of a test's own, on free ports and in a temporary folder, that the
 * test may kill and start again (a broker outage) without touching the shared servers. It runs
 * the jars `deploy/local` installs (`<data dir>/local/cache/kafka-lib`, or KAFKA_LIB) with Java.
 */
export interface PrivateKafkaBroker {
  /** `host:port` of the broker. */
  readonly address: string;
  /** Kills the broker at once (SIGKILL: an outage, not a clean shutdown) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and data, and waits until it answers. */
  start(): Promise<void>;
  /** Kills it and deletes its folder. */
  close(): Promise<void>;
  /** Its log file (Kafka's own output). */
  readonly logFile: string;
}

const workspaceRoot = join(__dirname, '..', '..', '..', '..', '..');

/** Where the Kafka jars are, or why a private broker cannot run here. */
export function privateKafkaAvailable(): { lib: string } | { missing: string } {
  const lib =
    process.env['KAFKA_LIB'] ?? join(process.env['STUDIO_DATA_DIR'] ?? join(workspaceRoot, '.data'), 'local', 'cache', 'kafka-lib');
  if (!existsSync(lib)) return { missing: `no Kafka jars at ${lib} (run \`npm run infra:up\` once, or set KAFKA_LIB)` };
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0) return { missing: 'java is not installed' };
  return { lib };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A cluster id as `kafka-storage random-uuid` makes it: base64url of 16 random bytes, never starting with '-'. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** A SCRAM user the broker is formatted with; clients then must authenticate (SASL_PLAINTEXT) as it. */
export interface PrivateKafkaScramUser {
  mechanism: 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

/**
 * Starts the broker. With `scram`, its client listener (`address`) requires SASL/SCRAM
 * authentication as that user (the broker talks to itself on a separate plaintext listener).
 */
export async function startPrivateKafka(
  lib: string,
  readyWithinMs = 120_000,
  options: { scram?: PrivateKafkaScramUser } = {},
): Promise<PrivateKafkaBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'studio-private-kafka-'));
  const [port, controllerPort] = [await freePort(), await freePort()];
  const address = `127.0.0.1:${port}`;
  const { scram } = options;
  const scramName = scram?.mechanism.toUpperCase();
  const brokerPort = scram ? await freePort() : port;
  const listeners = scram
    ? [
        `listeners=CLIENT://${address},BROKER://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`,
        `advertised.listeners=CLIENT://${address},BROKER://127.0.0.1:${brokerPort}`,
        'inter.broker.listener.name=BROKER',
        'listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT',
        `sasl.enabled.mechanisms=${scramName}`,
        `listener.name.client.${scram.mechanism}.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
      ]
    : [
        `listeners=PLAINTEXT://${address},CONTROLLER://127.0.0.1:${controllerPort}`,
        `advertised.listeners=PLAINTEXT://${address}`,
        'inter.broker.listener.name=PLAINTEXT',
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      ];
  const props = join(dir, 'server.properties');
  const logFile = join(dir, 'kafka.log');
  writeFileSync(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      ...listeners,
      'controller.listener.names=CONTROLLER',
      `log.dirs=${join(dir, 'data')}`,
      'num.partitions=1',
      'auto.create.topics.enable=false',
      'group.initial.rebalance.delay.ms=0',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'min.insync.replicas=1',
      'default.replication.factor=1',
      '',
    ].join('\n'),
  );
  const classpath = `${lib}/*`;
  const format = spawnSync(
    'java',
    [
      '-Xmx256m',
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId(),
      '-c',
      props,
      '--ignore-formatted',
      ...(scram ? ['--add-scram', `${scramName}=[name=${scram.username},password=${scram.password}]`] : []),
    ],
    { encoding: 'utf8' },
  );
  if (format.status !== 0) throw new Error(`formatting the private Kafka's storage failed: ${format.stderr || format.stdout}`);

  let child: ChildProcess | undefined;
  const log = createWriteStream(logFile, { flags: 'a' });

  const start = async () => {
    const proc = spawn(
      'java',
      ['-Xms128m', '-Xmx512m', '-XX:+UseSerialGC', '-Djava.awt.headless=true', '-cp', classpath, 'kafka.Kafka', props],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    proc.stdout?.pipe(log, { end: false });
    proc.stderr?.pipe(log, { end: false });
    child = proc;
    const admin = new Kafka({
      clientId: 'private-kafka-ready',
      brokers: [address],
      ...(scram ? { sasl: { mechanism: scram.mechanism, username: scram.username, password: scram.password } as SASLOptions } : {}),
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin();
    const deadline = Date.now() + readyWithinMs;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`the private Kafka exited with ${proc.exitCode} while starting (log: ${logFile})`);
      try {
        await admin.connect();
        await admin.describeCluster();
        await admin.disconnect();
        return;
      } catch {
        await admin.disconnect().catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`the private Kafka did not answer within ${readyWithinMs} ms (log: ${logFile})`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };

  const kill = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    address,
    logFile,
    kill,
    start,
    close: async () => {
      await kill();
      log.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
