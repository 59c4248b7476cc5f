import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'agent-memory:public';

/** Routes that need no API key and are not rate-limited: health and metrics. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
