import type { CallOptions, ChatMessage } from './llm-client';

/**
 * A served reward model (`studio-runtime serve`: `POST /v1/load_reward_model`, `POST /v1/rewards`):
 * one scalar per conversation, the conversation's last message (an assistant answer) being the one scored.
 * Higher is better; scores compare answers of one reward model, not across models.
 */
export interface RewardScorer {
  /** Loads the reward-model artifact at `path` under `name`; loading a name that is already loaded succeeds. */
  loadRewardModel(name: string, path: string, options?: CallOptions): Promise<void>;
  /** Scores of `conversations` in order (one per conversation); [] for none. */
  score(model: string, conversations: ChatMessage[][], options?: CallOptions): Promise<number[]>;
}
