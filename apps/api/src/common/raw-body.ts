/** The Fastify route config (see @RouteConfig) of routes that take their JSON body's bytes unparsed, as a RawBody. */
export const RAW_BODY_ROUTE = { rawBody: true } as const;

/** A JSON body's bytes, read and size-checked by Fastify, not yet decoded (see jsonBodyParser). */
export class RawBody {
  constructor(readonly bytes: Buffer) {}
}
