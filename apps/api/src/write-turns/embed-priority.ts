import { LOWEST_PRIORITY } from '@app/memory/queues/job-options';

/** A tenant with fewer turns than this queued is in the express lane. */
export const EXPRESS_LANE_TURNS = 1000;

/**
 * The BullMQ priority of a tenant's new embed jobs, from how many of its turns are queued already: BullMQ's open
 * source edition has no fair groups, so the lanes are its own. A tenant with a short queue gets no priority, and
 * BullMQ takes such jobs before every prioritized one: one tenant's turn never waits behind another's backlog. A
 * tenant past EXPRESS_LANE_TURNS gets a priority that grows with its backlog (lower runs first), so of two flooding
 * tenants the one with less queued goes first; within a priority, jobs run in the order they came.
 */
export function embedPriority(queued: number): number | undefined {
  if (queued < EXPRESS_LANE_TURNS) return undefined;
  // Below LOWEST_PRIORITY: a flooding tenant's turns still go before a re-index's batches.
  return Math.min(LOWEST_PRIORITY - 1, 1 + Math.floor(4 * Math.log2(queued / EXPRESS_LANE_TURNS)));
}
