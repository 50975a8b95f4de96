import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceClient } from '../upstream/service-client';
import { RedTeamController } from './red-team.controller';

/**
 * The red-team workspace's API, forwarded to the auditor (which stores trials and findings and
 * makes them into preferences and seeds) through the gateway's ServiceClient. Records findings,
 * preferences and seeds in the audit log (AuditLog, from the global keys module).
 */
@Module({})
export class RedTeamModule {
  static forRoot(upstream: ServiceClient): DynamicModule {
    return { module: RedTeamModule, controllers: [RedTeamController], providers: [{ provide: ServiceClient, useValue: upstream }] };
  }
}
