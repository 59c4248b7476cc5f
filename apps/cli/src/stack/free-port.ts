import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The first port of the kernel's ephemeral range, from which outgoing connections take their local ports. */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768; // not Linux: Linux's default, below macOS's 49152
  }
}

const LOW = 10_000;
const HIGH = ephemeralLow();
/** Ports handed out by this process: never twice, so servers started together are never given one port. */
const given = new Set<number>();

/** Listens on `port` (0: any) and closes again; resolves with the port, or undefined when it is taken. */
function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(undefined) : reject(err)));
    srv.listen(port, '127.0.0.1', () => {
      const { port: bound } = srv.address() as { port: number };
      srv.close(() => resolve(bound));
    });
  });
}

/**
 * A TCP port that was free on loopback a moment ago, picked at random below the ephemeral range: a port from bind(0)
 * comes from that range, where any process's outgoing connection can take it before the server meant for it binds it
 * (a redis-server then exits with "Address already in use"). Only when that range starts too low for a choice below
 * it is bind(0) used.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; HIGH - LOW >= 1000 && attempt < 100; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (!given.has(port) && (await tryListen(port)) !== undefined) {
      given.add(port);
      return port;
    }
  }
  return (await tryListen(0))!;
}
