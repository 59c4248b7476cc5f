import { SingleBar } from 'cli-progress';
import { describeGeneration, GenerationStore, MemoryStore, parseGenerationSpec, ReindexControl, type ReindexStatus } from '@app/memory';
import type { Command } from 'commander';
import { REDIS_URL_HELP, withRedis } from './with-redis';

const POLL_MS = 500;

function describeStatus(s: ReindexStatus): string {
  const lines = [`active: ${describeGeneration(s.active)}`, `state: ${s.state}`];
  if (s.target) lines.push(`target: ${describeGeneration(s.target)}`, `re-embedded: ${s.reembedded}/${s.total} (${s.remaining} remaining, ${s.rate}/s, pass ${s.pass})`);
  if (s.previous) lines.push(`previous: ${describeGeneration(s.previous)} (kept until the grace period ends; --abort rolls back to it)`);
  if (s.dropping) lines.push(`dropping: ${describeGeneration(s.dropping)} (its vectors are being deleted)`);
  return lines.join('\n');
}

/** Follows a re-index with a progress bar (stderr) until searches switched to the target, or it was aborted. */
async function follow(control: ReindexControl, first: ReindexStatus): Promise<ReindexStatus> {
  const bar = process.stderr.isTTY ? new SingleBar({ format: 're-embedding {bar} {value}/{total} ({rate}/s, pass {pass})', hideCursor: true }) : undefined;
  bar?.start(first.total, first.reembedded, { rate: first.rate, pass: first.pass ?? 1 });
  let s = first;
  while (s.state === 'building' && s.target?.fingerprint === first.target?.fingerprint) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    s = await control.status();
    bar?.setTotal(Math.max(s.total, s.reembedded));
    bar?.update(s.reembedded, { rate: s.rate, pass: s.pass ?? '-' });
  }
  bar?.stop();
  return s;
}

export function registerReindex(program: Command): void {
  program
    .command('reindex')
    .description('change the embedding model without downtime: re-embed every stored turn and memory into a new generation in the background (the embedders do it), then switch searches to it; without --to or --abort, show the status')
    .option('--to <provider/model/dim>', 'the new generation, e.g. local/local/1024 or openai-compatible/BAAI/bge-m3/1024 (credentials and endpoints come from the environment, as the services read them)')
    .option('--abort', 'roll back: drop the target (or, after the switch and within the grace period, make the previous generation active again)')
    .option('--follow', 'show a progress bar until the switch (default with --to)')
    .option('--no-follow', 'start and return at once')
    .option('--redis-url <url>', REDIS_URL_HELP)
    .action(async (f: { to?: string; abort?: boolean; follow?: boolean; redisUrl?: string }) => {
      if (f.to && f.abort) throw new Error('--to and --abort: one or the other');
      await withRedis(f.redisUrl, async (redis, keys, config) => {
        const control = new ReindexControl(new GenerationStore(redis, keys), new MemoryStore(redis, keys), config);
        let status = f.to ? await control.start(parseGenerationSpec(f.to)) : f.abort ? await control.abort() : await control.status();
        if (f.to) console.error(`re-indexing to ${describeGeneration(status.target!)}: ${status.total} turns and memories (Ctrl-C stops following, not the re-index)`);
        if (status.state === 'building' && f.follow !== false && (f.to || f.follow)) status = await follow(control, status);
        console.log(describeStatus(status));
      });
    });
}
