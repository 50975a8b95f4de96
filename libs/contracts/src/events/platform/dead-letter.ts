import { z } from 'zod';
import { IsoTime, NonNegativeInt } from '../../common';

/** Not a CloudEvent: the dead-letter record must hold messages that are not valid CloudEvents. */
export const DEAD_LETTER_V1 = 'platform.message.deadlettered.v1';

export const DeadLetterRecordV1 = z.object({
  version: z.literal('v1'),
  originalTopic: z.string().min(1),
  partition: NonNegativeInt.nullable(),
  offset: z.string().nullable(),
  key: z.string().nullable(),
  consumerGroup: z.string().min(1),
  eventId: z.string().nullable(),
  reason: z.enum(['invalid-message', 'handler-failed']),
  error: z.string().min(1),
  attempts: NonNegativeInt,
  failedAt: IsoTime,
  payload: z.string().describe('The original message value, as received (UTF-8)'),
});
export type DeadLetterRecordV1 = z.infer<typeof DeadLetterRecordV1>;
