import { HttpStatus, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AnsweredError } from '../common/answered-error';
import { ApiException } from '../common/api-exception';
import type { IngestReply, IngestRequest, IngestThreadInit, ParseAnswer } from './ingest-protocol';
import type { TurnWriteAnswer, TurnWriteRequest } from './turn-writer';

/**
 * The thread's nice value: the API's event loop (searches, reads, health) gets a CPU before the bulk work of writes,
 * as the embedders get theirs (EMBEDDER_NICE) and the retriever's graph thread.
 */
const NICE = 10;
/** A thread that dies sooner than this after it started is restarted only this long after its start (no hot loop). */
const RESTART_BACKOFF_MS = 1000;

type Answer = TurnWriteAnswer | ParseAnswer;
type Pending = { resolve: (answer: Answer) => void; reject: (err: Error) => void };

const unavailable = (why: string) => new ApiException(HttpStatus.SERVICE_UNAVAILABLE, 'unavailable', `${why}; retry (a resent turn id is stored once)`);

/**
 * The ingest thread of this API process: turn writes are handed to it with their body's bytes (transferred, not
 * copied), and it does the work whose cost grows with the body (TurnWriter: parsing, validation, token counts, the
 * accept script, the embed jobs) with its own Redis connections, at a lower priority, answering only the small result.
 * Large bodies of one tenant then cost the event loop, which answers every other request, next to nothing (issues 21
 * and 28). A thread that dies fails its writes in flight with 503 and is started again; one write never hangs on it.
 */
@Injectable()
export class IngestThread implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('IngestThread');
  private worker?: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closing = false;
  private startedAt = 0;
  private restarting?: NodeJS.Timeout;

  /** `env`: the thread's environment, which it reads its configuration from as the process does. */
  constructor(private readonly env: Readonly<Record<string, string | undefined>>) {}

  /** Resolves once the thread's connections are up (it retries Redis as start-up does); rejects if it died first. */
  onModuleInit(): Promise<void> {
    return this.start();
  }

  /**
   * Runs one turn write in the thread; `body`'s memory goes with it (the Buffer is empty after). Rejects with a 503
   * ApiException if the thread dies or is closed first, or once `signal` aborts (the client has gone: the thread
   * drops the write unless it has begun accepting it).
   */
  write(request: Omit<TurnWriteRequest, 'body'> & { body?: Buffer }, signal: AbortSignal): Promise<TurnWriteAnswer> {
    const body = request.body && ownBytes(request.body);
    return this.request<TurnWriteAnswer>((id) => ({ op: 'write', id, write: { ...request, body } }), body, signal);
  }

  /**
   * Parses a large JSON body of any route in the thread (parseJsonBody: the same checks and answers), so that its
   * decoding and parsing, which grow with it, do not hold up the event loop; `body`'s memory goes with it. Rejects with
   * the parser's 400 as an AnsweredError, or with a 503 ApiException if the thread dies or is closed first.
   */
  async parse(body: Buffer): Promise<unknown> {
    const bytes = ownBytes(body);
    const answer = await this.request<ParseAnswer>((id) => ({ op: 'parse', id, body: bytes }), bytes);
    if (!answer.ok) throw new AnsweredError(answer.error);
    return answer.value;
  }

  private request<T extends Answer>(message: (id: number) => IngestRequest, body: Uint8Array | undefined, signal?: AbortSignal): Promise<T> {
    const worker = this.worker;
    if (!worker || this.closing) return Promise.reject(unavailable(this.closing ? 'the API is shutting down' : 'the ingest thread is restarting'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (answer: Answer) => void, reject });
      signal?.addEventListener('abort', () => {
        if (!this.pending.delete(id)) return;
        worker.postMessage({ op: 'cancel', id } satisfies IngestRequest);
        reject(unavailable('the client closed the connection'));
      }, { once: true });
      worker.postMessage(message(id), body ? [body.buffer as ArrayBuffer] : []);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearTimeout(this.restarting);
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage({ op: 'close' } satisfies IngestRequest);
    // Its connections close at once; a thread that does not end within a few seconds is stopped.
    const timer = setTimeout(() => void worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }

  private start(): Promise<void> {
    this.restarting = undefined;
    this.startedAt = Date.now();
    const worker = new Worker(join(__dirname, 'ingest-thread-main.js'), { env: { ...this.env }, workerData: { nice: NICE } satisfies IngestThreadInit });
    this.worker = worker;
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (reply: IngestReply) => {
        if (reply.op === 'ready') resolve();
        else this.answer(reply.id, reply.answer);
      });
      worker.once('exit', (code) => {
        reject(new Error(`the ingest thread exited (${code}) before it was ready`));
        this.exited(worker, code);
      });
    });
    worker.on('error', (err) => this.logger.error(`the ingest thread failed: ${err.stack ?? err.message}`));
    return ready;
  }

  private answer(id: number, answer: Answer | undefined): void {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    // A write the thread dropped was already rejected when its client went.
    if (pending && answer) pending.resolve(answer);
  }

  private exited(worker: Worker, code: number): void {
    if (worker !== this.worker) return;
    this.worker = undefined;
    const err = unavailable(this.closing ? 'the API is shutting down' : `the ingest thread stopped (exit code ${code}) before answering`);
    for (const { reject } of this.pending.values()) reject(err);
    this.pending.clear();
    if (this.closing) return;
    this.logger.error(`the ingest thread exited (${code}); starting another`);
    const wait = Math.max(0, this.startedAt + RESTART_BACKOFF_MS - Date.now());
    this.restarting = setTimeout(() => this.start().catch((e: Error) => this.logger.error(e.message)), wait);
  }
}

/** A Buffer that owns its whole ArrayBuffer can be transferred as it is; a slice of a shared one (Node's pool) is copied. */
function ownBytes(body: Buffer): Uint8Array {
  return body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : new Uint8Array(body);
}
