import { artifactDir, eventServiceEnv } from '@studio/config';
import { z } from 'zod';

export const FRAMER_NAME = 'framer';
export const FRAMER_PORT = 3001;

/** STUDIO_ARTIFACT_DIR: where documents and dataset versions are written. */
export const FramerEnv = z.object({ ...eventServiceEnv(FRAMER_NAME), STUDIO_ARTIFACT_DIR: artifactDir });
export type FramerEnv = z.infer<typeof FramerEnv>;
