import { SetMetadata } from '@nestjs/common';
import type { QueueName } from '@app/memory';

export const USES_QUEUES = 'agent-memory:uses-queues';

/** The queues a route's work goes through: it is shed when one of them is full, and only then (reads do not wait on writes). */
export const UsesQueues = (...queues: QueueName[]) => SetMetadata(USES_QUEUES, queues);
