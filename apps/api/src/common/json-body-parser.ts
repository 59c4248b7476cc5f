import { HttpStatus } from '@nestjs/common';
import type { FastifyBodyParser, FastifyInstance, FastifyRequest } from 'fastify';
import { ApiException } from './api-exception';
import { LIMITS } from './limits';
import { RAW_BODY_ROUTE, RawBody } from './raw-body';

const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** With the u flag a surrogate pair is one code point: only unpaired halves match. */
const LONE_SURROGATE = /\p{Surrogate}/u;
/** A parsed string can hold a lone surrogate only through a \u escape of one (strict UTF-8 cannot encode it). */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/** Whether brackets nest deeper than `max` outside strings: one pass over the text, before anything is parsed. */
function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash: skip the character it escapes
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Recursion is safe here: the depth was bounded before parsing. */
function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, v]) => LONE_SURROGATE.test(key) || hasLoneSurrogate(v));
}

const refuse = (message: string) => new ApiException(HttpStatus.BAD_REQUEST, 'invalid_json', `invalid JSON body: ${message}`);
/** Fastify's parser errors, with the API's codes. */
const parseError = (err: Error & { code?: string }) =>
  err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
    ? new ApiException(HttpStatus.BAD_REQUEST, 'empty_body', 'the body is empty: send a JSON body')
    : refuse(err.message);

/** Fastify's default JSON parser (secure-json-parse, with its prototype-poisoning checks), as getDefaultJsonParser gives it. */
export type DefaultJsonParser = ReturnType<FastifyInstance['getDefaultJsonParser']>;

/** Fastify's default JSON parser, refusing prototype poisoning: the one the API parses every body with. */
export const defaultJsonParser = (fastify: FastifyInstance): DefaultJsonParser => fastify.getDefaultJsonParser('error', 'error');

/**
 * Parses a JSON body with `parse` behind three checks that throw a 400. The bytes must be UTF-8 (a lenient decoder
 * would turn them into U+FFFD silently); brackets may nest at most LIMITS.jsonDepth deep (validation recurses over
 * the body: 10,000 levels made it throw a RangeError, a 500, after seconds of work); and no string may hold a lone
 * surrogate (Redis stores text as UTF-8, which has none: it would come back as U+FFFD).
 */
export function parseJsonBody(bytes: Uint8Array, parse: DefaultJsonParser): unknown {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw refuse('the bytes are not UTF-8');
  }
  if (nestedDeeperThan(text, LIMITS.jsonDepth)) throw refuse(`arrays and objects nested deeper than ${LIMITS.jsonDepth} levels`);
  // Fastify's default parser reads no request, and answers through its callback synchronously.
  let parsed: { err: Error | null; value: unknown } | undefined;
  parse({} as FastifyRequest, text, (err, value) => (parsed = { err, value }));
  const { err, value } = parsed!;
  if (err) throw parseError(err);
  if (SURROGATE_ESCAPE.test(text) && hasLoneSurrogate(value)) {
    throw refuse('a string holds a lone surrogate (\\ud800 to \\udfff without its pair), which is not Unicode text');
  }
  return value;
}

/**
 * Bodies up to this size are parsed on the event loop (well under a millisecond); a larger one, up to LIMITS.bodyBytes,
 * is parsed off it: a 3 MB body held the loop, and every other tenant's requests, for ~35 ms.
 */
const PARSED_IN_LOOP_BYTES = 64 * 1024;

/**
 * The API's JSON body parser (see parseJsonBody). A route whose config has RAW_BODY_ROUTE gets its bytes unparsed, as
 * a RawBody: it parses them elsewhere (the ingest thread, for turn writes). A body over PARSED_IN_LOOP_BYTES is parsed
 * by `offLoop` (the ingest thread), with the same checks.
 */
export function jsonBodyParser(fastify: FastifyInstance, offLoop: (body: Buffer) => Promise<unknown>): FastifyBodyParser<Buffer> {
  const parse = defaultJsonParser(fastify);
  return (request, body, done) => {
    if ((request.routeOptions.config as Partial<typeof RAW_BODY_ROUTE>).rawBody === true) return done(null, new RawBody(body));
    if (body.byteLength > PARSED_IN_LOOP_BYTES) {
      offLoop(body).then((value) => done(null, value), (err: Error) => done(err, undefined));
      return;
    }
    try {
      done(null, parseJsonBody(body, parse));
    } catch (err) {
      done(err as Error, undefined);
    }
  };
}
