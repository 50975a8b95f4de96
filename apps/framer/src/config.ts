import { eventServiceEnv } from '@studio/config';
import { z } from 'zod';

export const FRAMER_NAME = 'framer';
export const FRAMER_PORT = 3001;

export const FramerEnv = z.object({ ...eventServiceEnv(FRAMER_NAME) });
export type FramerEnv = z.infer<typeof FramerEnv>;
