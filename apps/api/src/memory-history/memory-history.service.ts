import { Injectable } from '@nestjs/common';
import { MemoryRepository, NotFoundError } from '@app/memory';
import { toMemoryView, toVersionView } from '../list-memories/memory-view';
import type { MemoryHistoryView } from './memory-history.view';

/** A memory's versions; NotFoundError for a memory that was never stored, or is forgotten. */
@Injectable()
export class MemoryHistoryService {
  constructor(private readonly memories: MemoryRepository) {}

  async history(tenant: string, memoryId: string): Promise<MemoryHistoryView> {
    const found = await this.memories.history(MemoryRepository.parseMemoryId(tenant, memoryId), memoryId);
    if (!found) throw new NotFoundError(`no memory ${memoryId}`);
    return { memoryId, current: found.current ? toMemoryView(found.current) : null, versions: found.versions.map(toVersionView) };
  }
}
