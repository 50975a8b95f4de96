import 'reflect-metadata';
import { bootstrapService } from '@studio/nest';
import { framerService } from './framer.service';

void bootstrapService(framerService);
