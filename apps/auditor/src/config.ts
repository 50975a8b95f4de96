import { eventServiceEnv } from '@studio/config';
import { z } from 'zod';

export const AUDITOR_NAME = 'auditor';
export const AUDITOR_PORT = 3005;

export const AuditorEnv = z.object({ ...eventServiceEnv(AUDITOR_NAME) });
