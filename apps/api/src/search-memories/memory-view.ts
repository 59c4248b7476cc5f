import type { RetrievedMemory } from '@app/memory';
import type { MemoryView } from '../chat/chat.dto';

/** What clients see of a memory: storage keys stay internal. */
export const toMemoryView = ({ key: _key, ...view }: RetrievedMemory): MemoryView => view;
