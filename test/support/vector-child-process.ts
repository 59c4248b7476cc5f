import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Runs test/support/vector-index-child.ts in a separate node process, without a build step: a small require hook
 * transpiles TypeScript with the installed compiler (like ts-jest's transpile-only mode) and maps @app/memory.
 */
const BOOTSTRAP = `
const ts = require('typescript'), fs = require('fs'), path = require('path'), Module = require('module');
const src = path.join(process.cwd(), 'libs/memory/src');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === '@app/memory' || request.startsWith('@app/memory/')) request = src + request.slice('@app/memory'.length);
  return resolve.call(this, request, ...rest);
};
require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), { fileName: filename, compilerOptions: {
    module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true,
    experimentalDecorators: true, emitDecoratorMetadata: true } });
  module._compile(outputText, filename);
};
require(process.argv[1]);
`;

export interface ChildReply {
  id: number;
  error?: string;
  [k: string]: unknown;
}

/** A child process hosting one VectorIndex, driven by JSON lines over stdin/stdout. */
export class VectorIndexChild {
  private readonly proc: ChildProcess;
  private readonly pending = new Map<number, (r: ChildReply) => void>();
  private nextId = 1;
  readonly stderr: string[] = [];
  readonly ready: Promise<void>;

  constructor(env: Record<string, string>) {
    this.proc = spawn(process.execPath, ['-e', BOOTSTRAP, join(__dirname, 'vector-index-child.ts')], {
      cwd: join(__dirname, '..', '..'),
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: this.proc.stderr! }).on('line', (l) => this.stderr.push(l));
    this.ready = new Promise((resolve, reject) => {
      this.proc.once('exit', (code) => reject(new Error(`child exited with ${code}: ${this.stderr.join('\n')}`)));
      createInterface({ input: this.proc.stdout! }).on('line', (line) => {
        const msg = JSON.parse(line) as ChildReply & { ready?: boolean };
        if (msg.ready) resolve();
        else this.pending.get(msg.id)?.(msg);
      });
    });
  }

  async request(msg: Record<string, unknown>): Promise<ChildReply> {
    const id = this.nextId++;
    const reply = new Promise<ChildReply>((resolve) => this.pending.set(id, resolve));
    this.proc.stdin!.write(`${JSON.stringify({ ...msg, id })}\n`);
    return reply;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.stdin!.end();
    await exited;
  }
}
