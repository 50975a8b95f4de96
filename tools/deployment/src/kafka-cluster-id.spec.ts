import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The Kafka cluster id of deploy/local: made by `kafka-storage random-uuid` (never starting with
 * "-", which the storage tool would read as an option), and repaired when an earlier run left a
 * bad id or half-formatted storage behind. Runs infra.sh itself, with the Kafka jars it installs
 * (installed on first use, like `infra.sh up` does).
 */
const ROOT = join(__dirname, '..', '..', '..');
const INFRA = join(ROOT, 'deploy', 'local', 'infra.sh');
const REAL_CACHE = join(resolve(process.env['STUDIO_DATA_DIR'] ?? join(ROOT, '.data')), 'local', 'cache');
const KAFKA_ID = /^[A-Za-z0-9_-]{22}$/;

function infra(args: string[], dataDir?: string): string {
  const env = { ...process.env };
  if (dataDir) env['STUDIO_DATA_DIR'] = dataDir;
  return execFileSync('bash', [INFRA, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 << 20 });
}

function isKafkaId(id: string): boolean {
  return KAFKA_ID.test(id) && !id.startsWith('-') && Buffer.from(id, 'base64url').length === 16;
}

describe('Kafka cluster ids of deploy/local', () => {
  jest.setTimeout(600_000); // the first run may install the Kafka jars

  it('draws 10,000 cluster ids with kafka-storage random-uuid and none starts with "-"', () => {
    const ids = infra(['kafka-cluster-ids', '10000']).trim().split('\n');
    expect(ids).toHaveLength(10_000);
    expect(ids.filter((id) => id.startsWith('-'))).toEqual([]);
    expect(ids.filter((id) => !isKafkaId(id))).toEqual([]);
    expect(new Set(ids).size).toBe(10_000);
  });

  describe('the id `up` formats the storage with', () => {
    let dataDir: string;
    let kafkaDir: string;

    beforeEach(() => {
      dataDir = mkdtempSync(join(tmpdir(), 'infra-cluster-id-'));
      kafkaDir = join(dataDir, 'local', 'kafka');
      mkdirSync(join(kafkaDir, 'data'), { recursive: true });
      // Reuse the installed jars rather than install them again per case.
      mkdirSync(REAL_CACHE, { recursive: true });
      symlinkSync(REAL_CACHE, join(dataDir, 'local', 'cache'));
    });
    afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

    const idFile = () => readFileSync(join(kafkaDir, 'cluster-id'), 'utf8').trim();
    const clusterId = () => infra(['kafka-cluster-id'], dataDir).trim();

    it('is made on a fresh machine and kept afterwards', () => {
      const id = clusterId();
      expect(isKafkaId(id)).toBe(true);
      expect(idFile()).toBe(id);
      expect(clusterId()).toBe(id);
    });

    it('replaces an id starting with "-" that an earlier version wrote (the storage was never formatted with it)', () => {
      writeFileSync(join(kafkaDir, 'cluster-id'), '-3kOa9GZTkqL3dUjvlR0Xw\n');
      const id = clusterId();
      expect(isKafkaId(id)).toBe(true);
      expect(idFile()).toBe(id);
    });

    it('follows formatted storage: its id wins over a different id file, since formatting with another id fails for ever', () => {
      const formatted = 'MkU3OEVBNTcwNTJENDM2Qg';
      writeFileSync(join(kafkaDir, 'data', 'meta.properties'), `version=1\nnode.id=1\ncluster.id=${formatted}\n`);
      writeFileSync(join(kafkaDir, 'cluster-id'), 'b3RoZXJjbHVzdGVyaWQxMg\n');
      expect(clusterId()).toBe(formatted);
      expect(idFile()).toBe(formatted);
    });

    it('moves half-formatted storage (meta.properties without a valid id) aside and makes a new id', () => {
      writeFileSync(join(kafkaDir, 'data', 'meta.properties'), '');
      writeFileSync(join(kafkaDir, 'data', 'bootstrap.checkpoint'), 'partial');
      const id = clusterId();
      expect(isKafkaId(id)).toBe(true);
      expect(readdirSync(join(kafkaDir, 'data'))).toEqual([]);
      const aside = readdirSync(kafkaDir).filter((name) => name.startsWith('data.unusable-'));
      expect(aside).toHaveLength(1);
      expect(existsSync(join(kafkaDir, aside[0] ?? '', 'bootstrap.checkpoint'))).toBe(true);
    });
  });
});
