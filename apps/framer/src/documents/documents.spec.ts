import { buildCloudEvent, DOCUMENT_UPLOADED_V1, parseEvent, type DocumentUploadedV1 } from '@studio/contracts';
import { tenantId, type Repository, type TenantId } from '@studio/ports';
import { documentFromUpload, documentView, PolicyDocument } from './policy-document';
import { RecordUploadedDocument } from './record-uploaded-document';

const upload = (tenant = 'acme') =>
  parseEvent(
    DOCUMENT_UPLOADED_V1,
    buildCloudEvent<DocumentUploadedV1>({
      topic: DOCUMENT_UPLOADED_V1,
      source: '/studio/gateway',
      tenantId: tenant,
      contextId: 'ctx-1',
      time: new Date('2026-03-04T05:06:07Z'),
      data: {
        version: 'v1',
        contextId: 'ctx-1',
        documentId: 'doc-1',
        filename: 'conduct.md',
        mediaType: 'text/markdown',
        sha256: 'a'.repeat(64),
        sizeBytes: 12,
        storageUri: 'data:text/markdown;base64,IyBSdWxlcwo=',
      },
    }),
  );

/** A tenant-keyed map standing in for the Mongo repository. */
class MapRepository implements Pick<Repository<PolicyDocument>, 'upsert' | 'get'> {
  readonly rows = new Map<string, PolicyDocument>();
  async upsert(tenant: TenantId, entity: PolicyDocument): Promise<void> {
    this.rows.set(`${tenant}/${entity.id}`, PolicyDocument.parse(entity));
  }
  async get(tenant: TenantId, id: string): Promise<PolicyDocument | null> {
    return this.rows.get(`${tenant}/${id}`) ?? null;
  }
}

describe('documentFromUpload', () => {
  it('records what the upload says, keyed by the document id', () => {
    const event = upload();
    const document = documentFromUpload(event);
    expect(PolicyDocument.parse(document)).toEqual(document);
    expect(document).toMatchObject({
      id: 'doc-1',
      contextId: 'ctx-1',
      status: 'received',
      receivedAt: '2026-03-04T05:06:07.000Z',
      uploadEventId: event.id,
    });
    expect(documentView(document)).not.toHaveProperty('storageUri');
  });
});

describe('RecordUploadedDocument', () => {
  it("stores the document under the event's tenant, idempotently", async () => {
    const repo = new MapRepository();
    const useCase = new RecordUploadedDocument(repo as unknown as Repository<PolicyDocument>);
    const event = upload('acme');
    await useCase.execute(event);
    await useCase.execute(event);
    await useCase.execute(upload('globex'));
    expect([...repo.rows.keys()].sort()).toEqual(['acme/doc-1', 'globex/doc-1']);
    expect(await repo.get(tenantId('acme'), 'doc-1')).toMatchObject({ filename: 'conduct.md' });
  });
});
