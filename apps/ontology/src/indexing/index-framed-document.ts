import { Inject, Injectable, Logger } from '@nestjs/common';
import { ONTOLOGY_UPDATED_V1, type CloudEvent, type DocumentFramedV1 } from '@studio/contracts';
import { EventPublisher } from '@studio/nest';
import { indexClauses, type RetrievalPorts } from '@studio/pipeline';
import { tenantId, type Repository } from '@studio/ports';
import { sourceFromFramed, type FramedSource } from '../sources/framed-source';
import { FRAMER_CLIENT, type FramerClient } from './framer-client';

export const FRAMED_SOURCES_REPOSITORY = Symbol('FRAMED_SOURCES_REPOSITORY');
export const RETRIEVAL_PORTS = Symbol('RETRIEVAL_PORTS');

/**
 * "Index the clauses of the document the framer framed": reads them from the framer, embeds
 * them (dense, from the embeddings endpoint, plus a lexical sparse vector) into the vector index
 * for hybrid retrieval, and publishes `ontology.graph.updated`. Upserts by clause id: indexing a
 * document again replaces its points.
 */
@Injectable()
export class IndexFramedDocument {
  private readonly logger = new Logger(IndexFramedDocument.name);

  constructor(
    @Inject(FRAMED_SOURCES_REPOSITORY) private readonly sources: Repository<FramedSource>,
    @Inject(FRAMER_CLIENT) private readonly framer: FramerClient,
    @Inject(RETRIEVAL_PORTS) private readonly retrieval: RetrievalPorts,
    private readonly events: EventPublisher,
  ) {}

  async execute(event: CloudEvent<DocumentFramedV1>): Promise<FramedSource> {
    const tenant = tenantId(event.tenantid);
    const source = sourceFromFramed(event);
    await this.sources.upsert(tenant, source);
    const framed = new Set(source.clauseIds);
    const clauses = (await this.framer.clauses(tenant, source.contextId, source.id)).filter((c) => framed.has(c.id));
    const missing = source.clauseIds.filter((id) => !clauses.some((c) => c.id === id));
    if (missing.length > 0)
      throw new Error(
        `the framer does not have ${missing.length} of the ${source.clauseIds.length} clauses of ${source.id} (first: ${missing[0]})`,
      );
    const result = await indexClauses(this.retrieval, { tenant, contextId: source.contextId, clauses });
    const indexed: FramedSource = { ...source, status: 'indexed', indexedClauseCount: result.indexed };
    await this.sources.upsert(tenant, indexed);
    const sources = await this.sources.count(tenant, { contextId: source.contextId, status: 'indexed' });
    await this.events.publish(ONTOLOGY_UPDATED_V1, {
      tenantId: tenant,
      contextId: source.contextId,
      subject: source.id,
      id: `ontology-indexed-${source.id}-${source.documentSha256.slice(0, 16)}`,
      data: {
        version: 'v1',
        contextId: source.contextId,
        ontologyVersion: sources,
        conceptCount: 0,
        relationCount: 0,
        indexedClauseCount: result.indexed,
        sourceDocumentIds: [source.id],
      },
    });
    this.logger.log({
      msg: 'clauses indexed',
      tenantId: tenant,
      contextId: source.contextId,
      documentId: source.id,
      clauses: result.indexed,
      dimensions: result.dimensions,
    });
    return indexed;
  }
}
