import { ConfigError, loadConfig } from '@studio/config';
import { RewardModelEnv } from './config';

describe('reward-model configuration', () => {
  const token = 'reward-model-test-service-token-0123456789';
  const required = {
    MONGO_URL: 'mongodb://127.0.0.1:27017',
    KAFKA_BROKERS: '127.0.0.1:9092',
    SERVICE_TOKEN: token,
    STUDIO_ARTIFACT_DIR: '/tmp/a',
  };

  it('needs its database, the brokers, the service token and the artifact folder, naming each one missing', () => {
    expect(() => loadConfig(RewardModelEnv, {}, 'reward-model')).toThrow(ConfigError);
    for (const variable of Object.keys(required)) {
      const { [variable as keyof typeof required]: _left, ...rest } = required;
      expect(() => loadConfig(RewardModelEnv, rest, 'reward-model')).toThrow(new RegExp(variable));
    }
    expect(() => loadConfig(RewardModelEnv, { ...required, STUDIO_ARTIFACT_DIR: 'relative/dir' }, 'reward-model')).toThrow(
      /STUDIO_ARTIFACT_DIR must be an absolute path/,
    );
  });

  it('defaults its database, consumer group and the framer and auditor it reads', () => {
    expect(loadConfig(RewardModelEnv, required)).toMatchObject({
      MONGO_DB: 'studio_reward_model',
      KAFKA_GROUP_ID: 'studio-reward-model',
      FRAMER_URL: 'http://framer:3001',
      AUDITOR_URL: 'http://auditor:3005',
    });
  });

  it('asks for nothing it does not use: no Redis queue, no model server', () => {
    expect(Object.keys(RewardModelEnv.shape).filter((k) => /LLM|MODEL_SERVER|REDIS_URL$/.test(k) && k !== 'DEDUP_REDIS_URL')).toEqual([]);
  });
});
