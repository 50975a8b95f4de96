import { describeVectorIndexConformance, describeWithServers, serverSecret, uniqueName } from '@studio/testing';
import { QdrantVectorIndex } from './qdrant-vector-index';

/** The local Qdrant's API key, when it has one (deploy/local makes one). */
const qdrantKey = () => {
  const apiKey = serverSecret('QDRANT_API_KEY');
  return apiKey ? { apiKey } : {};
};

describeWithServers(['QDRANT_URL'], 'QdrantVectorIndex against the Qdrant API', ({ QDRANT_URL }) => {
  describeVectorIndexConformance('QdrantVectorIndex', async () => {
    const index = new QdrantVectorIndex({ url: QDRANT_URL, ...qdrantKey() });
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
