import 'reflect-metadata';
import { bootstrapWorker } from '@app/memory/nest/bootstrap-worker';
import { ExtractorModule } from './extractor.module';

void bootstrapWorker('extractor', ExtractorModule);
