import { buildCloudEvent, DOCUMENT_FRAMED_V1, parseEvent, type DocumentFramedV1 } from '@studio/contracts';
import { FramedSource, sourceFromFramed } from './framed-source';

describe('sourceFromFramed', () => {
  it('records a framed document as a source awaiting indexing', () => {
    const event = parseEvent(
      DOCUMENT_FRAMED_V1,
      buildCloudEvent<DocumentFramedV1>({
        topic: DOCUMENT_FRAMED_V1,
        source: '/studio/framer',
        tenantId: 'acme',
        contextId: 'ctx-1',
        data: {
          version: 'v1',
          contextId: 'ctx-1',
          documentId: 'doc-1',
          documentSha256: 'b'.repeat(64),
          clauseCount: 2,
          statementCount: 3,
          statementsByKind: { obligation: 2, prohibition: 1, permission: 0, exception: 0, definition: 0 },
          clauseIds: ['doc-1:1', 'doc-1:2'],
        },
      }),
    );
    const source = sourceFromFramed(event);
    expect(FramedSource.parse(source)).toEqual(source);
    expect(source).toMatchObject({
      id: 'doc-1',
      clauseIds: ['doc-1:1', 'doc-1:2'],
      statementCount: 3,
      status: 'pending-index',
      framedEventId: event.id,
    });
    expect(sourceFromFramed(event)).toEqual(source);
  });
});
