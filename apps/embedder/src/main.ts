import 'reflect-metadata';
import { setPriority } from 'node:os';
import { processConfig } from '@app/memory/config/load-config';
import { bootstrapWorker } from '@app/memory/nest/bootstrap-worker';
import { EmbedderModule } from './embedder.module';

// Before any thread starts: threads made later (libuv's pool) take this process's nice value.
setPriority(processConfig().EMBEDDER_NICE);
void bootstrapWorker('embedder', EmbedderModule);
