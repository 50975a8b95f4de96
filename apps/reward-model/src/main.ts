import 'reflect-metadata';
import { bootstrapService } from '@studio/nest';
import { rewardModelService } from './reward-model.service';

void bootstrapService(rewardModelService);
