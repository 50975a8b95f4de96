import { Controller, Inject, Logger, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  CLAUSES_INDEXED_V1,
  DATASET_VERSION_PUBLISHED_V1,
  PREFERENCE_DATASET_PUBLISHED_V1,
  type ClausesIndexedV1,
  type CloudEvent,
  type DatasetVersionPublishedV1,
  type PreferenceDatasetPublishedV1,
} from '@studio/contracts';
import { EventBusExceptionFilter } from '@studio/nest';
import {
  clauseIndexRecordOf,
  datasetVersionOf,
  preferenceDatasetVersionOf,
  type ClauseIndexRecord,
  type DatasetVersionRecord,
  type PreferenceDatasetVersionRecord,
} from '@studio/pipeline';
import { tenantId, type Repository } from '@studio/ports';
import { CLAUSE_INDEXES_REPOSITORY, DATASETS_REPOSITORY, PREFERENCE_DATASETS_REPOSITORY } from '../instructor.ports';

/**
 * What training needs to know from the other services: published dataset versions, which
 * documents' clauses are indexed, and published preference dataset versions (DPO and reward runs).
 */
@Controller()
@UseFilters(EventBusExceptionFilter)
export class DatasetsHandler {
  private readonly logger = new Logger(DatasetsHandler.name);

  constructor(
    @Inject(DATASETS_REPOSITORY) private readonly datasets: Repository<DatasetVersionRecord>,
    @Inject(CLAUSE_INDEXES_REPOSITORY) private readonly indexes: Repository<ClauseIndexRecord>,
    @Inject(PREFERENCE_DATASETS_REPOSITORY) private readonly preferenceDatasets: Repository<PreferenceDatasetVersionRecord>,
  ) {}

  @EventPattern(PREFERENCE_DATASET_PUBLISHED_V1)
  async onPreferenceDatasetPublished(@Payload() event: CloudEvent<PreferenceDatasetPublishedV1>): Promise<void> {
    const record = preferenceDatasetVersionOf(event);
    await this.preferenceDatasets.upsert(tenantId(event.tenantid), record);
    this.logger.log({
      msg: 'preference dataset version registered',
      tenantId: event.tenantid,
      contextId: record.contextId,
      preferenceDatasetId: record.id,
      pairs: record.pairs,
    });
  }

  @EventPattern(DATASET_VERSION_PUBLISHED_V1)
  async onDatasetPublished(@Payload() event: CloudEvent<DatasetVersionPublishedV1>): Promise<void> {
    const dataset = datasetVersionOf(event);
    await this.datasets.upsert(tenantId(event.tenantid), dataset);
    this.logger.log({
      msg: 'dataset version registered',
      tenantId: event.tenantid,
      contextId: dataset.contextId,
      datasetVersionId: dataset.id,
    });
  }

  @EventPattern(CLAUSES_INDEXED_V1)
  async onClausesIndexed(@Payload() event: CloudEvent<ClausesIndexedV1>): Promise<void> {
    await this.indexes.upsert(tenantId(event.tenantid), clauseIndexRecordOf(event.data, event.time));
    this.logger.log({
      msg: 'clause index registered',
      tenantId: event.tenantid,
      contextId: event.data.contextId,
      documentId: event.data.documentId,
    });
  }
}
