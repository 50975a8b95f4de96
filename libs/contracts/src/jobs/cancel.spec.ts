import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_QUEUE_PREFIX, jobCancelKey } from './cancel';

// The same vectors are checked by the model runtime's Python mirror (tests/test_contracts_keys.py).
const Vectors = z.array(z.object({ prefix: z.string(), queue: z.string(), jobId: z.string(), key: z.string() })).min(1);
const vectors = Vectors.parse(JSON.parse(readFileSync(join(__dirname, 'cancel-key.vectors.json'), 'utf8')));

describe('jobCancelKey', () => {
  it.each(vectors)('$prefix / $queue / $jobId → $key', ({ prefix, queue, jobId, key }) => {
    expect(jobCancelKey(queue, jobId, prefix)).toBe(key);
  });

  it("defaults to BullMQ's prefix", () => {
    expect(DEFAULT_QUEUE_PREFIX).toBe('bull');
    expect(jobCancelKey('training', '42')).toBe('bull:training:cancelled:42');
  });

  it('refuses an empty part', () => {
    expect(() => jobCancelKey('training', '')).toThrow('a job cancel key needs a prefix, queue and job id');
    expect(() => jobCancelKey('', '1')).toThrow('a job cancel key needs');
  });
});
