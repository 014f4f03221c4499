import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The small pieces every local HTTP stand-in shares (npm start's API Gateway and SQS endpoints; the tests' fake
 * Secrets Manager and PostgREST): read a body, answer JSON, listen and close.
 */

/** The request body as UTF-8 text. With `limitBytes`, reading stops past it and the answer is undefined. */
export function readBody(req: IncomingMessage): Promise<string>;
export function readBody(req: IncomingMessage, limitBytes: number): Promise<string | undefined>;
export async function readBody(req: IncomingMessage, limitBytes = Infinity): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Answers `body` as JSON with the given content type (AWS protocols name their own). */
export function replyJson(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  res.writeHead(status, { 'content-type': contentType });
  res.end(JSON.stringify(body));
}

export interface Listening {
  /** http://host:port, with the port the system chose when asked for 0. */
  url: string;
  /** Stops listening; open connections (keep-alive included) are dropped unless `dropConnections` is false. */
  close(options?: { dropConnections?: boolean }): Promise<void>;
}

/** Listens on `host` (default loopback) and `port` (default: any free one). */
export async function listen(server: Server, port = 0, host = '127.0.0.1'): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    // Without a listener a busy port is an unhandled 'error' event: Node's stack trace instead of a sentence.
    const refused = (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`port ${port} on ${host} is already in use (another npm start?): stop it, or set PORT`)
          : error,
      );
    server.once('error', refused);
    server.listen(port, host, () => {
      server.off('error', refused);
      resolve();
    });
  });
  const { address, port: actual } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${actual}`,
    close: ({ dropConnections = true } = {}) =>
      new Promise((resolve) => {
        server.close(() => resolve());
        if (dropConnections) server.closeAllConnections();
      }),
  };
}
