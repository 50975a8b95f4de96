import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';

export interface ValidationIssue {
  path: string;
  message: string;
}

/** Validates a body, query or param with a zod schema; 400 listing every issue otherwise. */
@Injectable()
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(
    private readonly schema: S,
    private readonly subject = 'request body',
  ) {}

  transform(value: unknown): z.infer<S> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    const issues: ValidationIssue[] = result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
    const message =
      value === undefined || value === ''
        ? `${this.subject} is required`
        : `${this.subject} is invalid: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`;
    throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message, issues });
  }
}
