import type { ArtifactStore, ClauseRecord, DatasetVersionRecord, DocumentRecord, DocumentVersionRecord } from '@studio/pipeline';
import type { Repository } from '@studio/ports';

/** Injection tokens of the framer's repositories (its own database) and of the shared artifact folder. */
export const DOCUMENTS_REPOSITORY = Symbol('DOCUMENTS_REPOSITORY');
export const DOCUMENT_VERSIONS_REPOSITORY = Symbol('DOCUMENT_VERSIONS_REPOSITORY');
export const CLAUSES_REPOSITORY = Symbol('CLAUSES_REPOSITORY');
export const DATASETS_REPOSITORY = Symbol('DATASETS_REPOSITORY');
export const ARTIFACTS = Symbol('ARTIFACTS');

export type DocumentsRepository = Repository<DocumentRecord>;
export type DocumentVersionsRepository = Repository<DocumentVersionRecord>;
export type ClausesRepository = Repository<ClauseRecord>;
export type DatasetsRepository = Repository<DatasetVersionRecord>;
export type Artifacts = ArtifactStore;
