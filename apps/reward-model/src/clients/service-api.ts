import { SERVICE_TOKEN_HEADER, TENANT_HEADER } from '@studio/nest';
import type { z } from 'zod';

/** Another service refused a request: `status` is its HTTP status (404: it has no such thing for the tenant). */
export class ServiceAnswerError extends Error {
  constructor(
    readonly service: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ServiceAnswerError';
  }
}

/** GETs of another internal service's HTTP API, with the tenant and the service credential, answers validated. */
export class ServiceApi {
  /** @param serviceToken the deployment's SERVICE_TOKEN: internal services refuse calls without it. */
  constructor(
    private readonly service: string,
    private readonly baseUrl: string,
    private readonly serviceToken: string,
    private readonly timeoutMs = 30_000,
  ) {}

  async get<S extends z.ZodType>(
    tenant: string,
    path: string,
    schema: S,
    what: string,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<z.infer<S>> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}${path}`;
    let res: Response;
    try {
      const timeout = AbortSignal.timeout(this.timeoutMs);
      res = await fetch(url, {
        headers: { [TENANT_HEADER]: tenant, [SERVICE_TOKEN_HEADER]: this.serviceToken },
        signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
      });
    } catch (error) {
      throw new Error(`reading ${what} from the ${this.service} at ${url} failed`, { cause: error });
    }
    if (!res.ok)
      throw new ServiceAnswerError(
        this.service,
        res.status,
        `${this.service} answered HTTP ${res.status} for ${what}: ${(await res.text()).slice(0, 300)}`,
      );
    const parsed = schema.safeParse(await res.json());
    if (!parsed.success)
      throw new Error(
        `the ${this.service}'s ${what} is not in the expected shape: ${parsed.error.issues
          .slice(0, 5)
          .map((i) => `${i.path.join('.')}: ${i.message}`)
          .join('; ')}`,
      );
    return parsed.data;
  }
}
