import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { errorAnswer } from '../../apps/api/src/common/domain-exception.filter';

/** The error Node gives a body read whose client closes the connection part-way, caught on a real server. */
async function abortedBodyError(): Promise<unknown> {
  let caught!: (err: unknown) => void;
  const error = new Promise<unknown>((resolve) => (caught = resolve));
  const server = createServer((req: IncomingMessage) => req.on('error', caught).resume());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1', () => {
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"role":');
    setTimeout(() => socket.destroy(), 50);
  });
  try {
    return await error;
  } finally {
    server.close();
  }
}

describe('errorAnswer', () => {
  it("answers a client's aborted body with a 400, not an unexpected 500 logged with its stack", async () => {
    const answer = errorAnswer(await abortedBodyError());
    expect([answer.status, answer.body.code]).toEqual([400, 'invalid_input']);
  });
});
