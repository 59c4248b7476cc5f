import 'reflect-metadata';
import { bootstrapWorker } from '@app/memory/nest/bootstrap-worker';
import { EmbedderModule } from './embedder.module';

void bootstrapWorker('embedder', EmbedderModule);
