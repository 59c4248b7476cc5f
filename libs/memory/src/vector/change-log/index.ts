/** The change-log stream the in-process backends follow: reading it across partitions, applying it, stream id order. */
export * from './stream-id';
