import { buildCloudEvent, DATASET_VERSION_PUBLISHED_V1, parseEvent, type DatasetVersionPublishedV1 } from '@studio/contracts';
import { datasetFromPublished, trainable, TrainingDataset } from './training-dataset';

describe('datasetFromPublished', () => {
  it('registers the published version with its splits as available', () => {
    const event = parseEvent(
      DATASET_VERSION_PUBLISHED_V1,
      buildCloudEvent<DatasetVersionPublishedV1>({
        topic: DATASET_VERSION_PUBLISHED_V1,
        source: '/studio/framer',
        tenantId: 'acme',
        contextId: 'ctx-1',
        data: {
          version: 'v1',
          contextId: 'ctx-1',
          datasetVersionId: 'ds-1',
          sha256: 'c'.repeat(64),
          documentId: 'doc-1',
          documentSha256: 'f'.repeat(64),
          format: 'conversational',
          splits: {
            train: { path: 'train.jsonl', sha256: 'd'.repeat(64), examples: 90 },
            heldOut: { path: 'held.jsonl', sha256: 'e'.repeat(64), examples: 10 },
          },
          examplesByKind: { instruction: 100 },
          clauseCoverage: 0.75,
        },
      }),
    );
    const dataset = datasetFromPublished(event);
    expect(TrainingDataset.parse(dataset)).toEqual(dataset);
    expect(dataset).toMatchObject({
      id: 'ds-1',
      trainPath: 'train.jsonl',
      trainExamples: 90,
      heldOutExamples: 10,
      clauseCoverage: 0.75,
      status: 'available',
    });
    expect(trainable(dataset)).toEqual({
      id: 'ds-1',
      sha256: 'c'.repeat(64),
      documentId: 'doc-1',
      documentSha256: 'f'.repeat(64),
      trainUri: 'train.jsonl',
      trainSha256: 'd'.repeat(64),
    });
  });
});
