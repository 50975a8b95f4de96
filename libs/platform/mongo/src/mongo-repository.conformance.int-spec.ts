import { describeRepositoryConformance, describeWithServers, uniqueName } from '@studio/testing';
import { connectMongo } from './connection';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describeWithServers(['MONGO_URL'], 'MongoRepository on a real MongoDB-compatible server', ({ MONGO_URL }) => {
  describeRepositoryConformance('MongoRepository', async () => {
    const db = await connectMongo(MONGO_URL, uniqueName('conformance').replace(/[^A-Za-z0-9_-]/g, '_'), silent);
    return {
      repository: async (spec) => {
        const repository = db.repository(spec);
        await repository.ensureIndexes();
        return repository;
      },
      dispose: async () => {
        await db.connection.dropDatabase().catch(() => undefined);
        await db.close();
      },
    };
  });
});
