import 'reflect-metadata';
import { bootstrapService } from '@studio/nest';
import { auditorService } from './auditor.service';

void bootstrapService(auditorService);
