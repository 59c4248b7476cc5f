/**
 * Another tenant's client for `npm run attack`: GETs one URL back to back until its standard input closes (the
 * attacker closes it, or has died), then prints every answer's time in milliseconds as a JSON array. It runs in a
 * process (and session) of its own, as another tenant's client does, so the attacker's own work never counts as the
 * service's stall. Arguments: the URL and the bearer key. It prints "reading" on a line of its own once warmed up.
 */
const [url, key] = process.argv.slice(2);
/** Answers not counted: a fresh process's first ones pay for compiling its HTTP client (up to 60 ms here). */
const WARM_UP = 50;
let stopping = false;
process.stdin.once('close', () => (stopping = true)).resume();

async function read(): Promise<void> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(30_000) });
  await res.text();
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
}

async function main(): Promise<void> {
  const ms: number[] = [];
  for (let i = 0; i < WARM_UP; i++) await read();
  process.stdout.write('reading\n');
  while (!stopping) {
    const started = performance.now();
    await read();
    ms.push(performance.now() - started);
  }
  process.stdout.write(JSON.stringify(ms));
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
