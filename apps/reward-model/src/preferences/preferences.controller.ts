import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  Header,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Res,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { ContextId, Id } from '@studio/contracts';
import { Tenant, ZodValidationPipe } from '@studio/nest';
import { tenantId } from '@studio/ports';
import {
  NothingToPublishError,
  PreferenceInput,
  PreferenceSource,
  PreferenceValidationError,
  type PreferenceDatasetRecord,
  type PreferenceRecord,
  type ResolutionRecord,
} from '@studio/preferences';
import { z } from 'zod';
import { PreferenceBook, PreferenceNotFoundError, ValuesUnavailableError, type WeightedPreference } from './preference-book';

const WholeNumber = (min: number, max: number, fallback: number) =>
  z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(fallback);

/** Query of GET …/preferences. */
export const PreferencesQuery = z
  .object({
    source: PreferenceSource.optional(),
    limit: WholeNumber(1, 1000, 50),
    offset: WholeNumber(0, 10_000_000, 0),
  })
  .strict();
export type PreferencesQuery = z.infer<typeof PreferencesQuery>;

/** Body of POST …/preferences: preferences made elsewhere (red-team findings, tests), each of this context. */
export const PostPreferencesBody = z
  .object({ items: z.array(PreferenceInput).min(1, 'must hold at least one preference').max(1000) })
  .strict();
export type PostPreferencesBody = z.infer<typeof PostPreferencesBody>;

/** Body of POST …/preference-datasets. */
export const PublishBody = z
  .object({
    heldOutRatio: z.number().min(0).max(0.5).optional().describe('Share of preferences held out to measure a reward model'),
    sources: z.array(PreferenceSource).min(1, 'must name at least one source').optional().describe('Only preferences of these sources'),
  })
  .strict();
export type PublishBody = z.infer<typeof PublishBody>;

const ResolutionsQuery = z.object({ preferenceDatasetId: Id.optional() }).strict();
type ResolutionsQuery = z.infer<typeof ResolutionsQuery>;

const contextIdPipe = () => new ZodValidationPipe(ContextId, 'path parameter contextId');

/**
 * Preferences, preference dataset versions and their resolutions (internal: the gateway forwards
 * its feedback and preference routes here, with the caller's tenant).
 */
@Controller('v1/contexts/:contextId')
export class PreferencesController {
  constructor(@Inject(PreferenceBook) private readonly book: PreferenceBook) {}

  /** A page of the context's preferences, newest first: `{ items, total }`, each with its weight in the newest dataset version. */
  @Get('preferences')
  async list(
    @Tenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Query(new ZodValidationPipe(PreferencesQuery, 'query')) query: PreferencesQuery,
  ): Promise<{ items: WeightedPreference[]; total: number }> {
    return this.book.page(tenant, contextId, query);
  }

  @Get('preferences/:preferenceId')
  async get(
    @Tenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('preferenceId', new ZodValidationPipe(Id, 'path parameter preferenceId')) preferenceId: string,
  ): Promise<WeightedPreference> {
    return this.found(() => this.book.preference(tenant, contextId, preferenceId));
  }

  /** Stores preferences (idempotent): 201 `{ created, ids }`, `created` counting those not stored before. */
  @Post('preferences')
  async post(
    @Tenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Body(new ZodValidationPipe(PostPreferencesBody)) body: PostPreferencesBody,
  ): Promise<{ created: number; ids: string[] }> {
    const foreign = body.items.flatMap((item, i) => (item.contextId === contextId ? [] : [`items.${i}.contextId`]));
    if (foreign.length > 0)
      throw new UnprocessableEntityException(
        `every preference must be of context "${contextId}" (the path's): ${foreign.join(', ')} ${foreign.length === 1 ? 'names' : 'name'} another`,
      );
    try {
      const { stored, created } = await this.book.record(tenantId(tenant), body.items);
      return { created, ids: stored.map((p: PreferenceRecord) => p.id) };
    } catch (error) {
      if (error instanceof PreferenceValidationError) throw new BadRequestException(error.message);
      throw error;
    }
  }

  /**
   * Publishes the next preference dataset version: 201 with it, or 200 with the existing one when
   * nothing changed since. 409 when the context has no preferences, 422 when every weight is 0,
   * 503 when the framer cannot say what the context's values are.
   */
  @Post('preference-datasets')
  async publish(
    @Tenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Body(new ZodValidationPipe(PublishBody)) body: PublishBody,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<PreferenceDatasetRecord> {
    try {
      const { dataset, created } = await this.book.publish(tenantId(tenant), contextId, body);
      res.status(created ? 201 : 200);
      return dataset;
    } catch (error) {
      // No preferences yet: 409 (record some first); every weight 0: 422 (the values give the preferences no weight).
      if (error instanceof NothingToPublishError)
        throw error.reason === 'no-preferences' ? new ConflictException(error.message) : new UnprocessableEntityException(error.message);
      if (error instanceof ValuesUnavailableError) throw new ServiceUnavailableException(error.message);
      throw error;
    }
  }

  /** The context's preference dataset versions, newest first: `{ items }`. */
  @Get('preference-datasets')
  async datasets(
    @Tenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
  ): Promise<{ items: PreferenceDatasetRecord[] }> {
    return { items: await this.book.datasets(tenant, contextId) };
  }

  @Get('preference-datasets/:preferenceDatasetId')
  async dataset(
    @Tenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('preferenceDatasetId', new ZodValidationPipe(Id, 'path parameter preferenceDatasetId')) id: string,
  ): Promise<PreferenceDatasetRecord> {
    return this.found(() => this.book.dataset(tenant, contextId, id));
  }

  /** The version's train split: TRL preference JSON lines (runtime/preference-row.v1), one per preference. */
  @Get('preference-datasets/:preferenceDatasetId/export')
  @Header('content-type', 'application/jsonl; charset=utf-8')
  async export(
    @Tenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Param('preferenceDatasetId', new ZodValidationPipe(Id, 'path parameter preferenceDatasetId')) id: string,
  ): Promise<string> {
    return this.found(() => this.book.exportTrain(tenant, contextId, id));
  }

  /** How the value priorities settled conflicting preferences in a version (default the newest): ResolutionRecord[]. */
  @Get('resolutions')
  async resolutions(
    @Tenant() tenant: string,
    @Param('contextId', contextIdPipe()) contextId: string,
    @Query(new ZodValidationPipe(ResolutionsQuery, 'query')) query: ResolutionsQuery,
  ): Promise<ResolutionRecord[]> {
    return this.found(() => this.book.resolutions(tenant, contextId, query.preferenceDatasetId));
  }

  private async found<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof PreferenceNotFoundError) throw new NotFoundException(error.message);
      throw error;
    }
  }
}
