import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tenantId } from '@studio/ports';
import { eraseTenantData } from './erase';
import { fakeLlm, frameAndPublish, openHarness, TENANT, type Harness } from './fixtures.spec-helper';
import { CLAUSE_COLLECTION, indexDocumentClauses } from './index-clauses';

describe('tenant erasure', () => {
  let h: Harness;
  const other = tenantId('globex');
  beforeEach(async () => {
    h = await openHarness(fakeLlm(() => ''));
  });
  afterEach(() => h.close());

  async function seed() {
    const upload = await frameAndPublish(h);
    await indexDocumentClauses(
      { ...h, embeddingModel: 'emb' },
      {
        tenant: TENANT,
        contextId: 'acme-conduct',
        documentId: upload.framed.document.id,
        documentSha256: upload.framed.document.sha256,
        clauses: upload.framed.clauses,
      },
    );
    return upload;
  }

  it("removes the tenant's records, artifacts and vectors and nothing of another tenant's; again, nothing more", async () => {
    const mine = await seed();
    const vectorsOf = async (tenant: string) =>
      (
        await h.vectors.query(CLAUSE_COLLECTION, {
          tenantId: tenant,
          contextId: 'acme-conduct',
          sparse: { indices: [1], values: [1] },
          dense: new Array(12).fill(1),
          limit: 100,
        })
      ).length;
    expect(await vectorsOf(TENANT)).toBeGreaterThan(0);

    // Another tenant's copy of the same policy (the same ids where ids are content-addressed).
    await h.repos.documents.upsert(other, { ...mine.framed.document });
    await h.repos.clauses.upsertMany(other, mine.framed.clauses);
    await h.artifacts.putImmutable('tenants/globex/documents/keep.md', 'kept');

    const erased = await eraseTenantData({ repos: { ...h.repos }, artifacts: h.artifacts, vectors: h.vectors }, TENANT);
    expect(erased.records).toMatchObject({
      documents: 1,
      documentVersions: 1,
      clauses: mine.framed.clauses.length,
      datasets: 1,
      clauseIndexes: 1,
    });
    expect(erased.artifacts).toBe(8); // the document, its clauses file, its framing artifact, the two dataset splits, the full examples and the data report (JSON, Markdown)
    expect(erased.vectorContexts).toEqual(['acme-conduct']);
    for (const repository of Object.values(h.repos)) expect(await repository.count(TENANT)).toBe(0);
    expect(existsSync(join(h.dir, 'tenants', TENANT))).toBe(false);
    expect(await vectorsOf(TENANT)).toBe(0);

    expect(await h.repos.documents.count(other)).toBe(1);
    expect(await h.repos.clauses.count(other)).toBe(mine.framed.clauses.length);
    expect(existsSync(join(h.dir, 'tenants', 'globex', 'documents', 'keep.md'))).toBe(true);

    const again = await eraseTenantData({ repos: { ...h.repos }, artifacts: h.artifacts, vectors: h.vectors }, TENANT);
    expect(again).toEqual({ records: Object.fromEntries(Object.keys(h.repos).map((k) => [k, 0])), artifacts: 0, vectorContexts: [] });
  });
});
