import 'reflect-metadata';
import { bootstrapService } from '@studio/nest';
import { ontologyService } from './ontology.service';

void bootstrapService(ontologyService);
