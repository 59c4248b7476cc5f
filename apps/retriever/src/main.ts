import 'reflect-metadata';
import { bootstrapWorker } from '@app/memory/nest/bootstrap-worker';
import { RetrieverModule } from './retriever.module';

void bootstrapWorker('retriever', RetrieverModule);
