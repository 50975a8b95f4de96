import { NotFoundException } from '@nestjs/common';
import type { DocumentRecord } from '@studio/pipeline';
import { tenantId, type Repository } from '@studio/ports';
import type { ContextSettings } from './context-settings';

/**
 * 404 unless the tenant has this context: its settings, or at least one document uploaded to it
 * (an upload names its context without creating settings). What makes a list under another
 * tenant's context a 404 rather than an empty list.
 */
export async function assertKnownContext(
  repos: { contexts: Pick<Repository<ContextSettings>, 'get'>; documents: Pick<Repository<DocumentRecord>, 'find'> },
  tenant: string,
  contextId: string,
): Promise<void> {
  if (await repos.contexts.get(tenantId(tenant), contextId)) return;
  if ((await repos.documents.find(tenantId(tenant), { contextId }, { limit: 1 })).length > 0) return;
  throw new NotFoundException(`context "${contextId}" not found: create it with POST /v1/contexts`);
}
