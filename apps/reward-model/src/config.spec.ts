import { ConfigError, loadConfig } from '@studio/config';
import { RewardModelEnv } from './config';

describe('reward-model configuration', () => {
  const token = 'reward-model-test-service-token-0123456789';

  it('needs its own database: MONGO_URL (named when missing) and MONGO_DB (defaulted), and the service token', () => {
    expect(() => loadConfig(RewardModelEnv, {}, 'reward-model')).toThrow(ConfigError);
    expect(() => loadConfig(RewardModelEnv, {}, 'reward-model')).toThrow(/MONGO_URL/);
    expect(() => loadConfig(RewardModelEnv, { MONGO_URL: 'mongodb://127.0.0.1:27017' }, 'reward-model')).toThrow(
      /SERVICE_TOKEN is required/,
    );
    expect(loadConfig(RewardModelEnv, { MONGO_URL: 'mongodb://127.0.0.1:27017', SERVICE_TOKEN: token })).toEqual({
      MONGO_URL: 'mongodb://127.0.0.1:27017',
      MONGO_DB: 'studio_reward_model',
      SERVICE_TOKEN: token,
    });
  });

  it('asks for nothing it does not use: no Redis, no Kafka', () => {
    expect(Object.keys(RewardModelEnv.shape).sort()).toEqual(['MONGO_DB', 'MONGO_URL', 'SERVICE_TOKEN']);
  });
});
