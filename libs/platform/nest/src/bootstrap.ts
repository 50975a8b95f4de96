import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CustomTransportStrategy, MicroserviceOptions } from '@nestjs/microservices';
import {
  commonEnv,
  host,
  loadConfig,
  loadConfigOrExit,
  port,
  profileEnv,
  refineKafkaSecurity,
  schemaForProfile,
  type Env,
  type EnvSchema,
  type LogLevel,
  type Profile,
} from '@studio/config';
import { z } from 'zod';
import { HealthModule } from './health/health.module';
import { describeError } from '@studio/contracts';
import { HealthRegistry, type ReadinessCheck } from './health/readiness';
import { ServiceLogger } from './logger';
import { ServiceTokenGuard } from './service-token.guard';

/** What every service reads, whatever else it needs. */
export interface BaseServiceConfig {
  PORT: number;
  HOST: string;
  LOG_LEVEL: LogLevel;
  SHUTDOWN_TIMEOUT_MS: number;
  /** distributed (servers) or embedded (in-process adapters under STUDIO_DATA_DIR): see @studio/config profileEnv. */
  STUDIO_PROFILE: Profile;
  STUDIO_DATA_DIR?: string | undefined;
}

export type ServiceConfig<S extends EnvSchema> = z.infer<S> & BaseServiceConfig;

export function serviceEnvShape(defaultPort: number) {
  return { PORT: port(defaultPort), HOST: host, ...commonEnv, ...profileEnv };
}

export interface ServiceDefinition<S extends EnvSchema> {
  /** Service name: logs, readiness report, error messages. */
  name: string;
  defaultPort: number;
  /** The service's own variables; PORT, HOST, LOG_LEVEL and SHUTDOWN_TIMEOUT_MS are added. */
  env: S;
  /** The service's root module, built from its validated configuration. */
  module: (config: ServiceConfig<S>) => DynamicModule;
  /** HTTP set-up before listening: OpenAPI, CORS... */
  configureHttp?: (app: INestApplication, config: ServiceConfig<S>) => void | Promise<void>;
  /**
   * For services that consume events: the microservice transport (an EventBusServer over the
   * app's EVENT_BUS), connected beside the HTTP server.
   */
  transport?: (app: INestApplication, config: ServiceConfig<S>) => CustomTransportStrategy | Promise<CustomTransportStrategy>;
  /**
   * The HTTP APIs the service calls, by the variable that names them (e.g. LLM_BASE_URL). Their
   * URLs are validated with the configuration; whether they answer is logged at start and
   * reported by /ready's `dependencies` check, which does not make the service unready (see
   * `dependencyCheck`).
   */
  dependencies?: (config: ServiceConfig<S>) => Record<string, string>;
  /**
   * For an internal service (every one but the gateway): the service credential its HTTP requests
   * must carry in the `x-studio-service-token` header (its SERVICE_TOKEN, see serviceTokenEnv);
   * createServiceApp installs the ServiceTokenGuard with it (401 without it, /health and /ready exempt).
   */
  serviceToken?: (config: ServiceConfig<S>) => string;
}

/**
 * Whether an HTTP API answers at `url`: null when it answers anything (any status counts: the
 * server is there), else why not, with the cause chain ("fetch failed: connect ECONNREFUSED ...").
 */
export async function probeHttp(url: string, timeoutMs = 1_500): Promise<string | null> {
  try {
    const res = await fetch(url, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel().catch(() => undefined);
    return null;
  } catch (error) {
    return (error as Error | undefined)?.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : describeError(error);
  }
}

/** Probes each dependency concurrently: variable → null (reachable) or the reason it is not. */
export async function probeDependencies(dependencies: Record<string, string>, timeoutMs?: number): Promise<Record<string, string | null>> {
  const entries = await Promise.all(
    Object.entries(dependencies).map(async ([variable, url]) => [variable, await probeHttp(url, timeoutMs)] as const),
  );
  return Object.fromEntries(entries);
}

/**
 * The `dependencies` readiness check: probes every HTTP dependency and reports, in its detail,
 * which answer and which do not (and why). It stays up when one does not: an unreachable model
 * server or peer service makes the calls that need it fail (audits retry with back-off, the
 * gateway answers 503 naming the service) but must not take the service out of its load
 * balancer, nor restart it in a loop; its own database, queue and broker are the checks that gate.
 */
export function dependencyCheck(
  dependencies: Record<string, string>,
  options: { timeoutMs?: number; maxAgeMs?: number; now?: () => number } = {},
): ReadinessCheck {
  const { timeoutMs = 1_500, maxAgeMs = 10_000, now = Date.now } = options;
  // A slow dependency must not make /ready slow (an orchestrator's probe gives up after ~1 s):
  // the last result answers at once while a refresh runs behind it; only the first call waits.
  let last: { at: number; detail: string } | null = null;
  let refreshing: Promise<string> | null = null;
  const refresh = (): Promise<string> =>
    (refreshing ??= probeDependencies(dependencies, timeoutMs)
      .then((results) => {
        const detail = Object.entries(results)
          .map(([variable, problem]) => (problem === null ? `${variable} reachable` : `${variable} unreachable (${problem})`))
          .join('; ');
        last = { at: now(), detail };
        return detail;
      })
      .finally(() => (refreshing = null)));
  return {
    name: 'dependencies',
    check: async () => {
      if (!last) return refresh();
      if (now() - last.at >= maxAgeMs) void refresh();
      return last.detail;
    },
  };
}

/**
 * The full environment schema of a service: the common variables plus its own, for the profile
 * `env` names (on the embedded profile, the variables naming servers are neither asked for nor read).
 * KAFKA_SASL_MECHANISM, _USERNAME and _PASSWORD go together (a config error names the missing one).
 */
export function serviceSchema<S extends EnvSchema>(definition: ServiceDefinition<S>, env: Env = process.env): EnvSchema {
  const schema = schemaForProfile(z.object({ ...serviceEnvShape(definition.defaultPort), ...definition.env.shape }), env);
  return 'KAFKA_SASL_MECHANISM' in schema.shape ? schema.superRefine(refineKafkaSecurity) : schema;
}

/** Validates a service's environment; throws ConfigError naming each missing or bad variable. */
export function loadServiceConfig<S extends EnvSchema>(definition: ServiceDefinition<S>, env: Env = process.env): ServiceConfig<S> {
  return loadConfig(serviceSchema(definition, env), env, definition.name) as ServiceConfig<S>;
}

@Module({})
class ServiceRootModule {}

/**
 * Creates the Nest application of a service (HTTP, health endpoints, and the event transport
 * when it has one) without listening yet and without touching process signals.
 */
export async function createServiceApp<S extends EnvSchema>(
  definition: ServiceDefinition<S>,
  config: ServiceConfig<S>,
  logger: ServiceLogger = new ServiceLogger(definition.name, config.LOG_LEVEL),
): Promise<INestApplication> {
  const app = await NestFactory.create(
    { module: ServiceRootModule, imports: [HealthModule.forRoot({ service: definition.name }), definition.module(config)] },
    { logger, abortOnError: false },
  );
  const serviceToken = definition.serviceToken?.(config);
  if (serviceToken !== undefined) app.useGlobalGuards(new ServiceTokenGuard(serviceToken));
  await definition.configureHttp?.(app, config);
  const dependencies = definition.dependencies?.(config);
  if (dependencies && Object.keys(dependencies).length > 0) {
    const check = dependencyCheck(dependencies);
    app.get(HealthRegistry).register(check);
    void check.check(); // the first probe runs now, not on the first /ready
  }
  if (definition.transport) {
    const strategy = await definition.transport(app, config);
    // Event handler controllers carry @UseFilters(EventBusExceptionFilter) so that their errors
    // reach the bus unchanged (a global filter cannot be added once the hybrid app is set up).
    app.connectMicroservice<MicroserviceOptions>({ strategy });
  }
  return app;
}

/** Starts the event transport (if any), then the HTTP server; resolves to the bound URL. */
export async function startServiceApp(app: INestApplication, config: BaseServiceConfig): Promise<string> {
  await app.startAllMicroservices();
  await app.listen(config.PORT, config.HOST);
  const address = app.getHttpServer().address();
  const boundPort = typeof address === 'object' && address ? address.port : config.PORT;
  return `http://${config.HOST}:${boundPort}`;
}

const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** At start: a warning for each HTTP dependency that does not answer (the service runs on; /ready reports it). */
export async function logDependencies(dependencies: Record<string, string>, logger: Pick<ServiceLogger, 'log' | 'warn'>): Promise<void> {
  for (const [variable, problem] of Object.entries(await probeDependencies(dependencies))) {
    if (problem === null) logger.log(`${variable} ${dependencies[variable]} answers`, 'Dependencies');
    else
      logger.warn(
        `${variable} ${dependencies[variable]} does not answer: ${problem}; calls that need it fail until it does (see /ready)`,
        'Dependencies',
      );
  }
}

/**
 * main.ts of every service: validate the configuration (print what is wrong and exit 1),
 * create the app, start consuming and serving, and shut down gracefully on SIGTERM/SIGINT.
 *
 * Shutdown is Nest's: `enableShutdownHooks` runs onModuleDestroy → beforeApplicationShutdown →
 * close the HTTP server and the event transport (stop consuming, finish in-flight handlers,
 * commit offsets) → onApplicationShutdown (Mongo and Redis connections close there), then exits 0.
 * On the signal, /ready turns 503 at once; if shutdown outlasts SHUTDOWN_TIMEOUT_MS the process
 * exits 1.
 */
export async function bootstrapService<S extends EnvSchema>(
  definition: ServiceDefinition<S>,
  env: Env = process.env,
): Promise<INestApplication> {
  const config = loadConfigOrExit(serviceSchema(definition, env), definition.name, env) as ServiceConfig<S>;
  const logger = new ServiceLogger(definition.name, config.LOG_LEVEL);
  let app: INestApplication | undefined;
  try {
    app = await createServiceApp(definition, config, logger);
    const started = app;
    app.enableShutdownHooks([...SHUTDOWN_SIGNALS], { useProcessExit: true });
    for (const signal of SHUTDOWN_SIGNALS) {
      process.once(signal, () => {
        started.get(HealthRegistry).markShuttingDown();
        logger.log(`${signal} received: shutting down (at most ${config.SHUTDOWN_TIMEOUT_MS} ms)`, 'Shutdown');
        setTimeout(() => {
          logger.fatal(`graceful shutdown did not finish within ${config.SHUTDOWN_TIMEOUT_MS} ms: exiting`, 'Shutdown');
          process.exit(1);
        }, config.SHUTDOWN_TIMEOUT_MS).unref();
      });
    }
    process.once('exit', (code) => logger.log(`exit ${code}`, 'Shutdown'));
    const url = await startServiceApp(app, config);
    logger.log(`listening on ${url}`, 'Bootstrap');
    void logDependencies(definition.dependencies?.(config) ?? {}, logger);
    return app;
  } catch (err) {
    logger.fatal(`failed to start: ${err instanceof Error ? err.message : String(err)}`, 'Bootstrap');
    await app?.close().catch(() => undefined);
    process.exit(1);
  }
}
