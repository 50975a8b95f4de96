// Global set-up of the integration tier. Servers come from the environment (KAFKA_BROKERS,
// MONGO_URL, REDIS_URL, QDRANT_URL) or from deploy/local's env file. Where neither has one
// and a Docker engine answers (a developer laptop), the missing servers are started with
// testcontainers; where there is no Docker either, the suites that need them fail in CI and
// are skipped with a reason locally (see libs/platform/testing).
const { execFileSync } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..');
const envFile = join(process.env.STUDIO_DATA_DIR || join(root, '.data'), 'local', 'env.sh');

function fromEnvFile(name) {
  if (!existsSync(envFile)) return undefined;
  const line = readFileSync(envFile, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`export ${name}=`));
  return line ? line.slice(`export ${name}=`.length) : undefined;
}

function dockerAnswers() {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

const CONTAINERS = {
  REDIS_URL: { image: 'redis:7.4', port: 6379, url: (h, p) => `redis://${h}:${p}` },
  MONGO_URL: { image: 'mongo:8.0', port: 27017, url: (h, p) => `mongodb://${h}:${p}` },
  QDRANT_URL: { image: 'qdrant/qdrant:v1.16.0', port: 6333, url: (h, p) => `http://${h}:${p}` },
  // Kafka advertises its listener, so the host port must equal the container port.
  KAFKA_BROKERS: { image: 'apache/kafka:4.1.1', port: 9092, fixed: true, url: (h, p) => `${h}:${p}` },
};

module.exports = async function globalSetup() {
  const missing = Object.keys(CONTAINERS).filter((name) => !process.env[name] && !fromEnvFile(name));
  for (const name of Object.keys(CONTAINERS)) {
    if (!process.env[name] && fromEnvFile(name)) process.env[name] = fromEnvFile(name);
  }
  if (missing.length === 0 || !dockerAnswers()) return;
  const { GenericContainer, Wait } = require('testcontainers');
  globalThis.__studioContainers = [];
  for (const name of missing) {
    const spec = CONTAINERS[name];
    let container = new GenericContainer(spec.image)
      .withExposedPorts(spec.fixed ? { container: spec.port, host: spec.port } : spec.port)
      .withWaitStrategy(Wait.forListeningPorts());
    const started = await container.start();
    globalThis.__studioContainers.push(started);
    process.env[name] = spec.url(started.getHost(), started.getMappedPort(spec.port));
    console.log(`[integration] started ${spec.image} for ${name}=${process.env[name]}`);
  }
};
