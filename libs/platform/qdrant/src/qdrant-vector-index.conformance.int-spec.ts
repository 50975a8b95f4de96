import { describeVectorIndexConformance, describeWithServers, uniqueName } from '@studio/testing';
import { QdrantVectorIndex } from './qdrant-vector-index';

describeWithServers(['QDRANT_URL'], 'QdrantVectorIndex against the Qdrant API', ({ QDRANT_URL }) => {
  describeVectorIndexConformance('QdrantVectorIndex', async () => {
    const index = new QdrantVectorIndex({ url: QDRANT_URL });
    const prefix = uniqueName('conformance');
    const created: string[] = [];
    return {
      index,
      collectionName: (suffix) => {
        const name = `${prefix}-${suffix}`;
        created.push(name);
        return name;
      },
      dispose: async () => {
        for (const name of created) await index.client.deleteCollection(name).catch(() => undefined);
      },
    };
  });
});
