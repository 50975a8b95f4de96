import { Id } from '@studio/contracts';
import { SERVICE_TOKEN_HEADER, TENANT_HEADER } from '@studio/nest';
import { z } from 'zod';

export const INSTRUCTOR_CLIENT = Symbol('INSTRUCTOR_CLIENT');

/** What the audit needs of a registered reward model (a reward AdapterRecord of the instructor). */
export const RewardModelRef = z.object({ id: Id, runId: Id, artifactDir: z.string().min(1) });
export type RewardModelRef = z.infer<typeof RewardModelRef>;

/** The instructor's HTTP API as the auditor reads it: the context's newest reward model. */
export class InstructorClient {
  /** @param serviceToken the deployment's SERVICE_TOKEN: the instructor refuses calls without it. */
  constructor(
    private readonly baseUrl: string,
    private readonly serviceToken: string,
  ) {}

  /**
   * The newest completed reward model of the context (`GET /v1/contexts/{id}/reward-models/latest`),
   * or null when it has none (404). Any other failure throws, naming the instructor's answer: the
   * audit is retried rather than written without the compliance score the context has a model for.
   */
  async latestRewardModel(tenant: string, contextId: string): Promise<RewardModelRef | null> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}/v1/contexts/${encodeURIComponent(contextId)}/reward-models/latest`;
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { [TENANT_HEADER]: tenant, [SERVICE_TOKEN_HEADER]: this.serviceToken },
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new Error(`reading the reward model of ${contextId} from the instructor at ${url} failed`, { cause: error });
    }
    if (res.status === 404) {
      await res.body?.cancel().catch(() => undefined);
      return null;
    }
    if (!res.ok)
      throw new Error(`instructor answered HTTP ${res.status} for the reward model of ${contextId}: ${(await res.text()).slice(0, 300)}`);
    const parsed = RewardModelRef.safeParse(await res.json());
    if (!parsed.success)
      throw new Error(
        `instructor's reward model of ${contextId} is not in the expected shape: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    return parsed.data;
  }
}
