import 'reflect-metadata';
import { bootstrapService } from '@studio/nest';
import { instructorService } from './instructor.service';

void bootstrapService(instructorService);
