import { eventServiceEnv } from '@studio/config';
import { z } from 'zod';

export const ONTOLOGY_NAME = 'ontology';
export const ONTOLOGY_PORT = 3002;

export const OntologyEnv = z.object({ ...eventServiceEnv(ONTOLOGY_NAME) });
