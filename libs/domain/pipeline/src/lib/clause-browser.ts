import { ClauseKind, convertDocument, extractStatements, NormativeStatement, parseDocument } from '@studio/framing';
import { tenantKey, type Repository, type TenantId } from '@studio/ports';
import { z } from 'zod';
import type { ArtifactStore } from './ports';
import type { ClauseRecord, DocumentRecord } from './records';

/**
 * "Browse the clauses of a context": each clause of the documents' current versions with what a
 * reader needs beside its text: how the document cites it, its run-in heading, its kind, the
 * clause it belongs to (the numbering tree) and the normative statements framing found in it,
 * with their kinds. Statements depend on the whole document (a lead-in's party carries into its
 * items), so they are extracted from the parsed document, once per document content: the result
 * is kept as an immutable artifact beside the document's clause file.
 */

export const ClauseStatement = NormativeStatement.pick({
  id: true,
  kind: true,
  actor: true,
  party: true,
  action: true,
  actionForm: true,
  condition: true,
  exception: true,
  modality: true,
  sentence: true,
});
export type ClauseStatement = z.infer<typeof ClauseStatement>;

/** What the clause file does not hold: the parsed tree's view of a clause and its statements. */
export const ClauseAnnotation = z.object({
  clauseId: z.string().min(1),
  citation: z.string().min(1),
  heading: z.string().nullable(),
  kind: ClauseKind,
  parentId: z.string().nullable(),
  headingPath: z.array(z.string()),
  statements: z.array(ClauseStatement),
});
export type ClauseAnnotation = z.infer<typeof ClauseAnnotation>;

export type ClauseView = ClauseRecord & Omit<ClauseAnnotation, 'clauseId'>;

/** The key of a document content's clause annotations (under the tenant); v2 adds each statement's action form. */
export function clauseAnnotationsKey(documentId: string, sha256: string): string {
  return `documents/${documentId}/${sha256}.clause-annotations.v2.jsonl`;
}

/** Annotations of every clause of a parsed document (pure). */
export function annotateClauses(tree: ReturnType<typeof parseDocument>): ClauseAnnotation[] {
  const byClause = new Map<string, ClauseStatement[]>();
  for (const s of extractStatements(tree)) {
    byClause.set(s.clauseId, [...(byClause.get(s.clauseId) ?? []), ClauseStatement.parse(s)]);
  }
  return tree.clauses.map((c) => ({
    clauseId: c.id,
    citation: c.citation,
    heading: c.heading,
    kind: c.kind,
    parentId: c.parentId,
    headingPath: c.headingPath,
    statements: byClause.get(c.id) ?? [],
  }));
}

/** A framed document's clause annotations: read from the artifact store, or made once from its bytes and kept. */
export async function clauseAnnotationsOf(
  artifacts: ArtifactStore,
  tenant: TenantId,
  document: Pick<DocumentRecord, 'id' | 'sha256' | 'storageUri' | 'mediaType'>,
): Promise<ClauseAnnotation[]> {
  const key = tenantKey(tenant, clauseAnnotationsKey(document.id, document.sha256));
  const path = artifacts.localPath(key);
  if (await artifacts.exists(path)) {
    return (await artifacts.read(path))
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line, i) => {
        const parsed = ClauseAnnotation.safeParse(JSON.parse(line));
        if (!parsed.success) throw new Error(`${path}:${i + 1}: not a clause annotation: ${parsed.error.issues[0]?.message ?? ''}`);
        return parsed.data;
      });
  }
  const source = await convertDocument(await artifacts.readBytes(document.storageUri), document.mediaType);
  const annotations = annotateClauses(parseDocument(source.content, { documentId: document.id, mediaType: source.mediaType }));
  await artifacts.putImmutable(key, annotations.map((a) => `${JSON.stringify(a)}\n`).join(''));
  return annotations;
}

/** Lower-case words and numbers of a text (letters of any script), for search. */
function terms(text: string): string[] {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+(?:[.()][\p{L}\p{N}]+)*\)?/gu) ?? []
  );
}

/**
 * Whether a clause matches a search: every term of the query occurs in its numbering, citation,
 * section title, heading, text or a statement's kind (as a word prefix: "disclos" finds "disclosure").
 */
export function clauseMatches(clause: ClauseView, query: string): boolean {
  const wanted = terms(query);
  if (wanted.length === 0) return true;
  const haystack = terms(
    [
      clause.numbering,
      clause.citation,
      clause.title ?? '',
      clause.heading ?? '',
      clause.text,
      ...clause.statements.map((s) => s.kind),
    ].join(' '),
  );
  return wanted.every((w) => haystack.some((h) => h.startsWith(w)));
}

export interface ClauseBrowserPorts {
  repos: {
    clauses: Pick<Repository<ClauseRecord>, 'find'>;
    documents: Pick<Repository<DocumentRecord>, 'find'>;
  };
  artifacts: ArtifactStore;
}

export interface ClauseBrowserQuery {
  documentId?: string | undefined;
  q?: string | undefined;
}

/** The context's current clauses (or one document's), in document order, annotated, filtered by `q`. */
export async function browseClauses(
  ports: ClauseBrowserPorts,
  tenant: TenantId,
  contextId: string,
  query: ClauseBrowserQuery,
): Promise<{ clauses: ClauseView[]; total: number }> {
  const filter = query.documentId ? { contextId, documentId: query.documentId } : { contextId };
  const [records, documents] = await Promise.all([
    ports.repos.clauses.find(tenant, filter, { sort: { documentId: 1, position: 1 }, limit: 20_000 }),
    ports.repos.documents.find(tenant, { contextId, status: 'framed' }, { limit: 1000 }),
  ]);
  const annotations = new Map<string, ClauseAnnotation>();
  for (const document of documents) {
    if (query.documentId && document.id !== query.documentId) continue;
    for (const a of await clauseAnnotationsOf(ports.artifacts, tenant, document)) annotations.set(a.clauseId, a);
  }
  const views = records.map((record): ClauseView => {
    const a = annotations.get(record.id);
    return {
      ...record,
      citation: a?.citation ?? `§${record.numbering}`,
      heading: a?.heading ?? null,
      kind: a?.kind ?? 'paragraph',
      parentId: a?.parentId ?? null,
      headingPath: a?.headingPath ?? (record.title ? [record.title] : []),
      statements: a?.statements ?? [],
    };
  });
  const q = query.q?.trim();
  const clauses = q ? views.filter((c) => clauseMatches(c, q)) : views;
  return { clauses, total: views.length };
}
