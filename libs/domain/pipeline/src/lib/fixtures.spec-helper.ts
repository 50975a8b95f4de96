import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPIC_NAMES, type CloudEvent, type Topic } from '@studio/contracts';
import { ExactVectorIndex, InProcessEventBus, InProcessJobQueue, SqliteStore } from '@studio/inproc';
import { tenantId, type ChatRequest, type ChatResult, type LlmClient } from '@studio/ports';
import { FileArtifactStore } from '@studio/artifacts';
import { frameUploadedDocument, generateDatasetVersion, uploadDocument, type FrameUploadResult, type GenerateDatasetResult } from './frame';
import type { PipelinePorts, StudioRepositories } from './ports';
import { studioRepositories } from './records';

export const TENANT = tenantId('acme');

export const POLICY = `# Acme Conduct Guidelines

## 1. Gifts

**1.1** Employees must not accept cash gifts from suppliers.

**1.2** Employees may accept gifts worth up to $50 without approval.

**1.3** Employees must record every gift worth more than $20 in the Gifts Register within ten business days.

## 2. Confidentiality

**2.1** Employees must not share Confidential Information with anyone outside the Company.

**2.2** Managers must report a suspected data breach to the Security Office within one business day.

**2.3** Employees may discuss public information about the Company freely.
`;

export const SEEDS = `{"id":"seed-1","kind":"qa","question":"Can I take a $30 gift card from a supplier?","answer":"No. Gift cards count as cash, and employees must not accept cash gifts from suppliers (§1.1).","clause_refs":["1.1"]}\n`;

export interface Harness extends PipelinePorts {
  dir: string;
  store: SqliteStore;
  bus: InProcessEventBus;
  queue: InProcessJobQueue;
  /** Every delivered event, in delivery order. */
  events: Array<{ topic: Topic; event: CloudEvent<unknown> }>;
  close(): Promise<void>;
}

/** The embedded profile's real adapters in a temporary folder, with an event recorder on every topic. */
export async function openHarness(llm: LlmClient): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'studio-stage-'));
  const store = SqliteStore.open(dir, 'studio');
  const repos: StudioRepositories = studioRepositories((spec) => store.repository(spec));
  const bus = new InProcessEventBus({ retry: { maxAttempts: 1, initialBackoffMs: 1, maxBackoffMs: 1 } });
  const events: Harness['events'] = [];
  for (const topic of TOPIC_NAMES) {
    bus.subscribe(topic, async (event) => {
      events.push({ topic, event });
    });
  }
  await bus.start();
  const queue = new InProcessJobQueue({ defaultBackoffMs: 1 });
  return {
    dir,
    store,
    bus,
    queue,
    repos,
    events,
    artifacts: new FileArtifactStore(dir),
    vectors: new ExactVectorIndex(),
    llm,
    async close() {
      await bus.stop();
      await queue.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function topicsOf(h: Harness): Topic[] {
  return h.events.map((e) => e.topic);
}

/** Bag-of-words embeddings over a fixed vocabulary: similar texts get similar vectors, deterministically. */
export function bagOfWords(text: string): number[] {
  const vocabulary = [
    'gift',
    'cash',
    'supplier',
    'record',
    'register',
    'confidential',
    'share',
    'breach',
    'report',
    'public',
    'approval',
    'manager',
  ];
  const lower = text.toLowerCase();
  const v = vocabulary.map((w) => (lower.includes(w) ? 1 : 0));
  return v.some((x) => x > 0) ? v : v.map(() => 0.01);
}

/** A fake OpenAI-compatible endpoint: chat answers come from `answer`, embeddings from bagOfWords. */
export function fakeLlm(answer: (request: ChatRequest) => string): LlmClient & { chats: ChatRequest[] } {
  const chats: ChatRequest[] = [];
  return {
    chats,
    async chat(request: ChatRequest): Promise<ChatResult> {
      chats.push(request);
      return { id: `c-${chats.length}`, model: request.model, content: answer(request), finishReason: 'stop', usage: null };
    },
    // eslint-disable-next-line require-yield
    async *chatStream() {
      throw new Error('not used');
    },
    async embed(_model: string, input: string[]) {
      return input.map(bagOfWords);
    },
    async listModels() {
      return ['base', 'all-minilm-l6-v2'];
    },
  };
}

export interface FrameOptions {
  contextId?: string;
  documentId?: string;
  policy?: string;
  seeds?: string | null;
  seed?: number;
  heldOutRatio?: number;
}

/** Upload → frame → dataset version, as both profiles run them. */
export async function frameAndPublish(
  h: Harness,
  options: FrameOptions = {},
): Promise<{ framed: FrameUploadResult; dataset: GenerateDatasetResult }> {
  const contextId = options.contextId ?? 'acme-conduct';
  const uploaded = await uploadDocument(h, {
    tenant: TENANT,
    contextId,
    documentId: options.documentId ?? 'acme-cg',
    filename: 'policy.md',
    mediaType: 'text/markdown',
    content: new TextEncoder().encode(options.policy ?? POLICY),
    maxBytes: 1_000_000,
    source: '/test',
  });
  const framed = await frameUploadedDocument(h, uploaded);
  const dataset = await generateDatasetVersion(h, {
    tenant: TENANT,
    contextId,
    documentId: framed.document.id,
    values: null,
    seedsJsonl: options.seeds === undefined ? SEEDS : options.seeds,
    seed: options.seed ?? 7,
    heldOutRatio: options.heldOutRatio ?? 0.2,
  });
  return { framed, dataset };
}
