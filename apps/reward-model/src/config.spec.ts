import { ConfigError, loadConfig } from '@studio/config';
import { RewardModelEnv } from './config';

describe('reward-model configuration', () => {
  it('needs only its own database: MONGO_URL (named when missing) and MONGO_DB (defaulted)', () => {
    expect(() => loadConfig(RewardModelEnv, {}, 'reward-model')).toThrow(ConfigError);
    expect(() => loadConfig(RewardModelEnv, {}, 'reward-model')).toThrow(/MONGO_URL/);
    expect(loadConfig(RewardModelEnv, { MONGO_URL: 'mongodb://127.0.0.1:27017' })).toEqual({
      MONGO_URL: 'mongodb://127.0.0.1:27017',
      MONGO_DB: 'studio_reward_model',
    });
  });

  it('asks for nothing it does not use: no Redis, no Kafka', () => {
    expect(Object.keys(RewardModelEnv.shape).sort()).toEqual(['MONGO_DB', 'MONGO_URL']);
  });
});
