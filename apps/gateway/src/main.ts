import 'reflect-metadata';
import { bootstrapService } from '@studio/nest';
import { gatewayService } from './gateway.service';

void bootstrapService(gatewayService);
