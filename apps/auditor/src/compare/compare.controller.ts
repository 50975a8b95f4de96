import { Body, Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { ContextId, Id } from '@studio/contracts';
import { Tenant, ZodValidationPipe } from '@studio/nest';
import {
  compareAnswers,
  CompareRequest,
  heldOutItems,
  HeldOutItemNotFoundError,
  type CompareResult,
  type HeldOutItem,
} from '@studio/pipeline';
import { tenantId, type Repository } from '@studio/ports';
import { z } from 'zod';
import { AUDIT_CANDIDATES_REPOSITORY, type AuditCandidate } from '../candidates/audit-candidate';
import { AUDIT_SETTINGS, type AuditSettings } from '../audits/audit-settings';
import { FRAMER_CLIENT, FramerAnswerError, type FramerClient } from '../audits/framer-client';
import { AUDIT_PORTS, type AuditServicePorts } from '../audits/run-audit';

const Offset = z.coerce.number().int().min(0, 'must be at least 0').default(0);
const Limit = z.coerce.number().int().min(1, 'must be at least 1').max(1_000, 'must be at most 1000').default(200);

/** The framer's 404 (no such context or dataset version for the tenant) as this service's 404. */
async function notFoundAs404<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof FramerAnswerError && error.status === 404) throw new NotFoundException(error.message);
    throw error;
  }
}

/**
 * The compare view's data: the base, aligned and aligned+RAG answers to a prompt or a held-out
 * item (the pipeline's compareAnswers: the audit's own variants and scores), and the held-out
 * items to pick from. The aligned model is the adapter of a completed run the auditor has seen.
 */
@Controller('v1')
export class CompareController {
  constructor(
    @Inject(AUDIT_CANDIDATES_REPOSITORY) private readonly candidates: Repository<AuditCandidate>,
    @Inject(FRAMER_CLIENT) private readonly framer: FramerClient,
    @Inject(AUDIT_PORTS) private readonly ports: AuditServicePorts,
    @Inject(AUDIT_SETTINGS) private readonly settings: AuditSettings,
  ) {}

  @Post('contexts/:contextId/compare')
  @HttpCode(200)
  async compare(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Body(new ZodValidationPipe(CompareRequest)) body: CompareRequest,
  ): Promise<CompareResult> {
    const candidate = await this.candidates.get(tenantId(tenant), body.runId);
    if (!candidate || candidate.contextId !== contextId)
      throw new NotFoundException(
        `training run "${body.runId}" has not completed in context "${contextId}" (no such run, another context's, or training has not finished)`,
      );
    const run = candidate.run;
    const [dataset, context, clauses] = await notFoundAs404(
      Promise.all([
        this.framer.dataset(tenant, contextId, run.datasetVersionId),
        this.framer.context(tenant, contextId),
        this.framer.clauses(tenant, contextId, run.datasetVersionId),
      ]),
    );
    try {
      return await compareAnswers(this.ports, {
        tenant: tenantId(tenant),
        contextId,
        runId: run.runId,
        dataset,
        adapter: { id: run.adapterId, artifactDir: run.artifactUri },
        baseModel: run.baseModel,
        question: body.prompt !== undefined ? { prompt: body.prompt } : { heldOutItemId: body.heldOutItemId as string },
        clauses,
        itemPass: context.thresholds.itemPass,
        settings: { ragTopK: this.settings.ragTopK, maxTokens: this.settings.maxTokens },
      });
    } catch (error) {
      if (error instanceof HeldOutItemNotFoundError) throw new NotFoundException(error.message);
      throw error;
    }
  }

  @Get('contexts/:contextId/datasets/:datasetVersionId/held-out')
  async heldOut(
    @Tenant() tenant: string,
    @Param('contextId', new ZodValidationPipe(ContextId, 'path parameter contextId')) contextId: string,
    @Param('datasetVersionId', new ZodValidationPipe(Id, 'path parameter datasetVersionId')) datasetVersionId: string,
    @Query('offset', new ZodValidationPipe(Offset, 'query parameter offset')) offset: number,
    @Query('limit', new ZodValidationPipe(Limit, 'query parameter limit')) limit: number,
  ): Promise<{ datasetVersionId: string; total: number; offset: number; items: HeldOutItem[] }> {
    const dataset = await notFoundAs404(this.framer.dataset(tenant, contextId, datasetVersionId));
    const items = await heldOutItems(this.ports.artifacts, dataset);
    return { datasetVersionId, total: items.length, offset, items: items.slice(offset, offset + limit) };
  }
}
