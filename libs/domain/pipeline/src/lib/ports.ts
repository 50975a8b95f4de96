import type { RuntimeProgressV1, TrainingJobV1 } from '@studio/contracts';
import type { ArtifactStore, EventBus, JobQueue, LlmClient, Repository, VectorIndex } from '@studio/ports';
import type {
  AdapterRecord,
  AuditRunRecord,
  ClauseIndexRecord,
  ClauseRecord,
  DatasetVersionRecord,
  DocumentRecord,
  DocumentVersionRecord,
  TrainingRunRecord,
} from './records';

/**
 * The ports the pipeline's use cases run on. `@studio/ports` has the shared ones (EventBus,
 * Repository, JobQueue, VectorIndex, LlmClient, ArtifactStore); the two below are what the
 * pipeline needs beyond them, each small enough for a distributed adapter too (a BullMQ
 * training worker, vLLM's adapter API).
 */

export type { ArtifactStore };

/** Runs one training job and streams the runtime's progress protocol. */
export interface ModelTrainer {
  train(job: TrainingJobV1, signal: AbortSignal): AsyncIterable<RuntimeProgressV1>;
}

/** Makes a trained adapter servable by name (vLLM-style dynamic LoRA loading). */
export interface AdapterLoader {
  /** Idempotent: loading a name that is already loaded succeeds. */
  loadAdapter(name: string, path: string): Promise<void>;
}

export interface StudioRepositories {
  documents: Repository<DocumentRecord>;
  documentVersions: Repository<DocumentVersionRecord>;
  clauses: Repository<ClauseRecord>;
  datasets: Repository<DatasetVersionRecord>;
  runs: Repository<TrainingRunRecord>;
  adapters: Repository<AdapterRecord>;
  audits: Repository<AuditRunRecord>;
  clauseIndexes: Repository<ClauseIndexRecord>;
}

/** Where a use case publishes its events, and as whom (CloudEvents `source`; the CLI's by default). */
export interface Publishing {
  bus: EventBus;
  eventSource?: string;
}

/** Progress of a stage: `done` of `total` units, with an optional short note (e.g. the loss). */
export interface StageProgress {
  done: number;
  total: number;
  note?: string;
  /** Estimated time left, where the stage can tell (from its own pace, not counting resumed work). */
  etaMs?: number;
}
export type ProgressSink = (progress: StageProgress) => void;

export interface PipelinePorts {
  bus: EventBus;
  repos: StudioRepositories;
  artifacts: ArtifactStore;
  queue: JobQueue;
  vectors: VectorIndex;
  llm: LlmClient;
}

/** The CloudEvents `source` of the events the pipeline publishes. */
export const STUDIO_SOURCE = '/studio/cli';
