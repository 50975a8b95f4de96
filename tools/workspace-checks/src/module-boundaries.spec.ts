import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The lint rules must really forbid something: domain-side libraries (contracts, ports, domain)
 * may not import NestJS or drivers, and no library may import an app. Each case lints source
 * text as if it were a file inside that project, using the repository's real ESLint config.
 */
const root = join(__dirname, '..', '..', '..');
const eslintBin = join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');

interface LintMessage {
  ruleId: string | null;
  message: string;
}

/** Runs the ESLint CLI in its own process (the flat config is an ES module). */
async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
  const run = spawnSync(process.execPath, [eslintBin, '--format', 'json', '--stdin', '--stdin-filename', filePath], {
    cwd: root,
    input: code,
    encoding: 'utf8',
  });
  if (run.status !== 0 && run.status !== 1) throw new Error(`eslint failed: ${run.stderr}`);
  const [result] = JSON.parse(run.stdout) as { messages: LintMessage[] }[];
  return (result?.messages ?? []).filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

describe('module boundaries', () => {
  it.each([
    ['kafkajs', "import { Kafka } from 'kafkajs';\nexport const x = Kafka;\n"],
    ['@nestjs/common', "import { Injectable } from '@nestjs/common';\nexport const x = Injectable;\n"],
    ['mongoose', "import mongoose from 'mongoose';\nexport const x = mongoose;\n"],
    ['bullmq', "import { Queue } from 'bullmq';\nexport const x = Queue;\n"],
    ['ioredis', "import Redis from 'ioredis';\nexport const x = Redis;\n"],
    ['@qdrant/js-client-rest', "import { QdrantClient } from '@qdrant/js-client-rest';\nexport const x = QdrantClient;\n"],
  ])('rejects %s in the ports library', async (driver, code) => {
    const errors = await boundaryErrors('libs/ports/src/forbidden.ts', code);
    expect(errors).toEqual([expect.stringContaining(`not allowed to import "${driver}"`)]);
  });

  it('rejects a driver in the contracts library', async () => {
    const errors = await boundaryErrors('libs/contracts/src/forbidden.ts', "import { Kafka } from 'kafkajs';\nexport const x = Kafka;\n");
    expect(errors).toEqual([expect.stringContaining('"type:contracts" is not allowed to import "kafkajs"')]);
  });

  it('rejects an adapter imported by a domain library', async () => {
    const errors = await boundaryErrors(
      'libs/domain/framing/src/forbidden.ts',
      "import * as k from '@studio/kafka';\nexport const x = k;\n",
    );
    expect(errors.join('\n')).toMatch(
      /type:domain.*can only depend on libs tagged with "type:domain", "type:ports", "type:contracts", "type:util"/s,
    );
  });

  it('rejects a driver in a domain library', async () => {
    const errors = await boundaryErrors(
      'libs/domain/auditing/src/forbidden.ts',
      "import { Kafka } from 'kafkajs';\nexport const x = Kafka;\n",
    );
    expect(errors).toEqual([expect.stringContaining('"type:domain" is not allowed to import "kafkajs"')]);
  });

  it('allows an adapter to use its driver and the ports', async () => {
    const code = "import { Kafka } from 'kafkajs';\nimport { tenantId } from '@studio/ports';\nexport const x = [Kafka, tenantId];\n";
    expect(await boundaryErrors('libs/platform/kafka/src/allowed.ts', code)).toEqual([]);
  });
});
