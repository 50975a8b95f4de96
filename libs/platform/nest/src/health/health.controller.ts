import { Controller, Get, HttpException, HttpStatus } from '@nestjs/common';
import { HealthRegistry, type ReadinessReport } from './readiness';

export interface LivenessReport {
  status: 'ok';
  service: string;
  pid: number;
  uptimeSeconds: number;
}

@Controller()
export class HealthController {
  constructor(private readonly registry: HealthRegistry) {}

  /** Liveness: the process is up and its event loop answers. Checks no dependency. */
  @Get('health')
  health(): LivenessReport {
    return {
      status: 'ok',
      service: this.registry.options.service,
      pid: process.pid,
      uptimeSeconds: Math.round((Date.now() - this.registry.startedAt) / 1000),
    };
  }

  /** Readiness: every dependency check passes; 503 with the per-check report otherwise. */
  @Get('ready')
  async ready(): Promise<ReadinessReport> {
    const report = await this.registry.report();
    if (report.status !== 'ready') throw new HttpException(report, HttpStatus.SERVICE_UNAVAILABLE);
    return report;
  }
}
