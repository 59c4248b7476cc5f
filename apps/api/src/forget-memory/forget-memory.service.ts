import { Injectable } from '@nestjs/common';
import { MemoryRepository, NotFoundError } from '@app/memory';

/** Forgets one long-term memory with its history; NotFoundError when there is none. */
@Injectable()
export class ForgetMemoryService {
  constructor(private readonly memories: MemoryRepository) {}

  async forget(tenant: string, memoryId: string): Promise<{ memoryId: string; deleted: true }> {
    if (!(await this.memories.delete(MemoryRepository.parseMemoryId(tenant, memoryId), memoryId))) throw new NotFoundError(`no memory ${memoryId}`);
    return { memoryId, deleted: true };
  }
}
