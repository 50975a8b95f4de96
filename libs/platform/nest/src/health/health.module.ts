import { Module, type DynamicModule } from '@nestjs/common';
import { HealthController } from './health.controller';
import { HEALTH_OPTIONS, HealthRegistry, type HealthOptions } from './readiness';

/**
 * `GET /health` (liveness) and `GET /ready` (readiness). Global: any module can inject
 * HealthRegistry and register the check of the dependency it owns.
 */
@Module({})
export class HealthModule {
  static forRoot(options: HealthOptions): DynamicModule {
    return {
      module: HealthModule,
      global: true,
      controllers: [HealthController],
      providers: [
        { provide: HEALTH_OPTIONS, useValue: options },
        { provide: HealthRegistry, useFactory: (o: HealthOptions) => new HealthRegistry(o), inject: [HEALTH_OPTIONS] },
      ],
      exports: [HealthRegistry],
    };
  }
}
