import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { APIError } from 'openai';
import { ProviderError } from '@app/memory';
import { errorAnswer } from '../common/domain-exception.filter';

/** An upstream failure in OpenAI's error shape ({error: {message, type, param, code}}), and the status to answer it with. */
export function upstreamError(err: ProviderError): { status: number; body: { error: Record<string, unknown> }; retryAfter?: string } {
  const cause = err.cause instanceof APIError ? err.cause : undefined;
  // The caller's request was refused (a bad tool schema, an unknown model): its status. The proxy's own key or the
  // upstream failing is no fault of the caller: 502, or 504 for a timeout. A rate limit stays a 429 with its Retry-After.
  const status = err.kind === 'bad_request' ? (err.status ?? 400) : err.kind === 'rate_limit' ? 429 : err.kind === 'timeout' ? 504 : 502;
  const upstream = cause?.error && typeof cause.error === 'object' ? (cause.error as Record<string, unknown>) : {};
  return {
    status,
    body: { error: { type: err.kind === 'rate_limit' ? 'rate_limit_error' : 'upstream_error', param: null, code: null, ...upstream, message: err.message } },
    retryAfter: cause?.headers?.get('retry-after') ?? undefined,
  };
}

/** Any other error of the proxy: the API's answer (same status and headers), in OpenAI's shape. */
function apiError(err: unknown): { status: number; body: { error: Record<string, unknown> }; headers: Record<string, string> } {
  const { status, body, headers } = errorAnswer(err);
  const message = Array.isArray(body.message) ? body.message.join('; ') : body.message;
  const code = (body as { code?: unknown }).code ?? null;
  return { status, body: { error: { message, type: body.error ?? 'error', param: null, code } }, headers };
}

/** Every error of the proxy answered as OpenAI would, so that OpenAI clients read it; upstream failures mapped (see upstreamError). */
@Catch()
export class OpenAiErrorFilter implements ExceptionFilter {
  catch(err: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (err instanceof ProviderError) {
      const { status, body, retryAfter } = upstreamError(err);
      if (retryAfter) reply.header('Retry-After', retryAfter);
      reply.status(status).send(body);
      return;
    }
    const { status, body, headers } = apiError(err);
    reply.headers(headers).status(status).send(body);
  }
}
