import { Controller, Inject, Logger, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DATASET_VERSION_PUBLISHED_V1, type CloudEvent, type DatasetVersionPublishedV1 } from '@studio/contracts';
import { EventBusExceptionFilter } from '@studio/nest';
import { tenantId, type Repository } from '@studio/ports';
import { datasetFromPublished, type TrainingDataset } from './training-dataset';

export const TRAINING_DATASETS_REPOSITORY = Symbol('TRAINING_DATASETS_REPOSITORY');

/** Registers each published dataset version as available for training runs. */
@Controller()
@UseFilters(EventBusExceptionFilter)
export class DatasetsHandler {
  private readonly logger = new Logger(DatasetsHandler.name);

  constructor(@Inject(TRAINING_DATASETS_REPOSITORY) private readonly datasets: Repository<TrainingDataset>) {}

  @EventPattern(DATASET_VERSION_PUBLISHED_V1)
  async onDatasetPublished(@Payload() event: CloudEvent<DatasetVersionPublishedV1>): Promise<void> {
    const dataset = datasetFromPublished(event);
    await this.datasets.upsert(tenantId(event.tenantid), dataset);
    this.logger.log({
      msg: 'dataset version registered',
      tenantId: event.tenantid,
      contextId: dataset.contextId,
      datasetVersionId: dataset.id,
    });
  }
}
