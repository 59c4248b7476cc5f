/** Input limits of the HTTP API; breaking one is a 400 (or 413 for the body size). */
export const LIMITS = {
  bodyBytes: 4 * 1024 * 1024,
  /** How deep arrays and objects may nest in a body: far more than any request needs. */
  jsonDepth: 32,
  /** A path parameter, URL-encoded: a 128-character turn id of 4-byte characters is 128 * 4 * 3 ("%XX") long. */
  paramChars: 128 * 4 * 3,
  contentChars: 32_000,
  batchTurns: 1000,
  metadataKeys: 32,
  metadataBytes: 16 * 1024,
  tags: 16,
  /** The last millisecond a JavaScript Date can represent. */
  maxTimestamp: 8.64e15,
  k: 100,
  /** Turns before and after each hit (search and context's `neighbours`). */
  neighbours: 5,
  windowHours: 24 * 365 * 10,
  /** Sessions named in one search. */
  sessionIds: 100,
  /** A context's token budget. */
  maxTokens: 128_000,
  recentTurns: 50,
  pageSize: 500,
  /** Far past any real session, and small enough for Redis's integer ranges. */
  maxOffset: 1_000_000_000,
} as const;
