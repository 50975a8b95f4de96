import { Module, type DynamicModule } from '@nestjs/common';
import { FileArtifactStore } from '@studio/artifacts';
import { OpenAiCompatibleClient } from '@studio/llm';
import {
  EVENT_BUS,
  EventBusServer,
  eventServiceModules,
  vectorIndexOf,
  providePublishing,
  PUBLISHING,
  repositoryProvider,
  TENANT_DATA_ERASER,
  TenantDataController,
  type Publishing,
  type TenantDataEraser,
  type ServiceConfig,
  type ServiceDefinition,
} from '@studio/nest';
import { CLAUSE_INDEXES, eraseTenantData, type RetrievalPorts } from '@studio/pipeline';
import type { Entity, Repository } from '@studio/ports';
import { ONTOLOGY_NAME, ONTOLOGY_PORT, OntologyEnv } from './config';
import { FramedDocumentsHandler } from './indexing/framed-documents.handler';
import { latestGraphs } from './indexing/latest-graphs';
import { RetrievalController, type LatestGraphs } from './indexing/retrieval.controller';
import {
  CONFLICT_DECISIONS,
  ONTOLOGY_GRAPHS,
  ONTOLOGY_HEADS,
  ONTOLOGY_IMPORTS,
  ONTOLOGY_SOURCES,
  type ConflictDecisionRecord,
  type ImportedOverlayRecord,
  type OntologyGraphRecord,
  type OntologyHeadRecord,
  type OntologySourceRecord,
} from './graph/graph-records';
import { erasableGraphRepositories, GraphCache, type GraphPorts } from './graph/graph-store';
import { OntologyController } from './graph/ontology.controller';
import { ARTIFACTS, CLAUSE_INDEXES_REPOSITORY, GRAPH_PORTS, LATEST_GRAPHS, RETRIEVAL_PORTS } from './ontology.ports';

const GRAPHS_REPOSITORY = Symbol('GRAPHS_REPOSITORY');
const HEADS_REPOSITORY = Symbol('HEADS_REPOSITORY');
const SOURCES_REPOSITORY = Symbol('SOURCES_REPOSITORY');
const IMPORTS_REPOSITORY = Symbol('IMPORTS_REPOSITORY');
const DECISIONS_REPOSITORY = Symbol('DECISIONS_REPOSITORY');

export type OntologyConfig = ServiceConfig<typeof OntologyEnv>;

/**
 * The ontology: wiring of the pipeline's clause indexing and retrieval to the vector index (Qdrant,
 * or the exact in-process index on the embedded profile), the embeddings endpoint and the event bus.
 */
@Module({})
export class OntologyModule {
  static forRoot(config: OntologyConfig): DynamicModule {
    const retrieval: RetrievalPorts = {
      llm: new OpenAiCompatibleClient({
        baseUrl: config.LLM_BASE_URL,
        timeoutMs: 300_000,
        ...(config.LLM_API_KEY ? { apiKey: config.LLM_API_KEY } : {}),
      }),
      vectors: vectorIndexOf(config),
      embeddingModel: config.EMBEDDING_MODEL,
    };
    return {
      module: OntologyModule,
      imports: eventServiceModules(ONTOLOGY_NAME, config),
      controllers: [FramedDocumentsHandler, RetrievalController, OntologyController, TenantDataController],
      providers: [
        ...providePublishing(`/studio/${ONTOLOGY_NAME}`),
        repositoryProvider(CLAUSE_INDEXES_REPOSITORY, CLAUSE_INDEXES),
        repositoryProvider(GRAPHS_REPOSITORY, ONTOLOGY_GRAPHS),
        repositoryProvider(HEADS_REPOSITORY, ONTOLOGY_HEADS),
        repositoryProvider(SOURCES_REPOSITORY, ONTOLOGY_SOURCES),
        repositoryProvider(IMPORTS_REPOSITORY, ONTOLOGY_IMPORTS),
        repositoryProvider(DECISIONS_REPOSITORY, CONFLICT_DECISIONS),
        { provide: RETRIEVAL_PORTS, useValue: retrieval },
        { provide: ARTIFACTS, useValue: new FileArtifactStore(config.STUDIO_ARTIFACT_DIR) },
        {
          provide: GRAPH_PORTS,
          inject: [
            PUBLISHING,
            ARTIFACTS,
            GRAPHS_REPOSITORY,
            HEADS_REPOSITORY,
            SOURCES_REPOSITORY,
            IMPORTS_REPOSITORY,
            DECISIONS_REPOSITORY,
          ],
          useFactory: (
            publishing: Publishing,
            artifacts: GraphPorts['artifacts'],
            graphs: Repository<OntologyGraphRecord>,
            heads: Repository<OntologyHeadRecord>,
            sources: Repository<OntologySourceRecord>,
            imports: Repository<ImportedOverlayRecord>,
            decisions: Repository<ConflictDecisionRecord>,
          ): GraphPorts => ({ ...publishing, artifacts, repos: { graphs, heads, sources, imports, decisions }, cache: new GraphCache() }),
        },
        {
          provide: LATEST_GRAPHS,
          inject: [GRAPH_PORTS],
          useFactory: (ports: GraphPorts): LatestGraphs => latestGraphs(ports),
        },
        {
          provide: TENANT_DATA_ERASER,
          inject: [CLAUSE_INDEXES_REPOSITORY, GRAPH_PORTS],
          useFactory: (clauseIndexes: Repository<Entity>, graph: GraphPorts): TenantDataEraser => ({
            // The graphs, their sources, imports and decisions go with the clause index.
            erase: (tenant) =>
              eraseTenantData({ repos: { clauseIndexes, ...erasableGraphRepositories(graph.repos) }, vectors: retrieval.vectors }, tenant),
          }),
        },
      ],
    };
  }
}

export const ontologyService: ServiceDefinition<typeof OntologyEnv> = {
  serviceToken: (config) => config.SERVICE_TOKEN,
  name: ONTOLOGY_NAME,
  defaultPort: ONTOLOGY_PORT,
  env: OntologyEnv,
  module: (config) => OntologyModule.forRoot(config),
  dependencies: (config) => ({
    LLM_BASE_URL: config.LLM_BASE_URL,
    ...(config.STUDIO_PROFILE === 'distributed' ? { QDRANT_URL: config.QDRANT_URL } : {}),
  }),
  transport: (app) => new EventBusServer(app.get(EVENT_BUS)),
};
