import 'reflect-metadata';
import { processConfig } from '@app/memory/config/load-config';
import { bootstrapWorker } from '@app/memory/nest/bootstrap-worker';
import { niceThisProcess } from '@app/memory/threads/nice-this-process';
import { EmbedderModule } from './embedder.module';

// Before any thread starts: threads made later (libuv's pool) take this process's nice value.
niceThisProcess(processConfig().EMBEDDER_NICE);
void bootstrapWorker('embedder', EmbedderModule);
