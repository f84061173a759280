import { createServer, IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';

/** One request the endpoint received, recorded before it was answered. */
export interface ReceivedRequest {
  method: string;
  /** Path without the query string, e.g. `/hook`. */
  path: string;
  /** Path with the query string, e.g. `/hook?min=10`. */
  url: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The raw body text ('' when there was none). */
  body: string;
  /** Date.now() when the body had been read. */
  time: number;
}

/** Answers a request; `n` is 1 for the first hit on the path since it was scripted, 2 for the next... */
export type EndpointHandler = (req: ReceivedRequest, res: ServerResponse, n: number) => void | Promise<void>;

export interface ScriptedReply {
  status: number;
  /** Sent as JSON unless it is a string, which is sent as is (to test invalid replies). */
  body?: unknown;
  /** Wait this long before answering (to test timeouts). */
  delayMs?: number;
  headers?: Record<string, string>;
}

export interface TestEndpoint {
  /** http://127.0.0.1:<port>, no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Every request received, oldest first. */
  readonly requests: ReceivedRequest[];
  /** Requests whose path is `path`. */
  requestsTo(path: string): ReceivedRequest[];
  script(path: string, handler: EndpointHandler): void;
  reply(
    path: string,
    status: number,
    body: unknown,
    opts?: { delayMs?: number; headers?: Record<string, string> },
  ): void;
  /** Answers the n-th hit with the n-th reply; the last one repeats. */
  replySequence(path: string, replies: ScriptedReply[]): void;
  /** Stops listening and destroys open sockets, keep-alive ones included. */
  close(): Promise<void>;
}

/** A local webhook endpoint on 127.0.0.1 and a free port. Unscripted paths answer 404 `{}`. */
export async function startEndpoint(): Promise<TestEndpoint> {
  const requests: ReceivedRequest[] = [];
  const scripts = new Map<string, { handler: EndpointHandler; hits: number }>();
  const sockets = new Set<Socket>();
  const delays = new Map<NodeJS.Timeout, () => void>();
  let closed = false;

  const send = async (res: ServerResponse, reply: ScriptedReply): Promise<void> => {
    if (reply.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          delays.delete(timer);
          resolve();
        }, reply.delayMs);
        delays.set(timer, resolve);
      });
    }
    if (closed || res.destroyed || res.writableEnded) return; // the client gave up, or close() ran
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const parsed = new URL(req.url ?? '/', 'http://127.0.0.1');
    const received: ReceivedRequest = {
      method: req.method ?? 'GET',
      path: parsed.pathname,
      url: req.url ?? '/',
      query: parsed.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      time: Date.now(),
    };
    requests.push(received);
    const scripted = scripts.get(received.path);
    try {
      if (!scripted) return await send(res, { status: 404, body: {} });
      scripted.hits += 1;
      await scripted.handler(received, res, scripted.hits);
    } catch (error) {
      if (!res.headersSent && !res.destroyed) res.writeHead(500, { 'content-type': 'text/plain' });
      if (!res.writableEnded) res.end(`endpoint handler failed: ${(error as Error).message}`);
    }
  };
  // A request aborted while its body is read rejects: drop its connection, as a server would.
  const server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const script = (path: string, handler: EndpointHandler): void => {
    scripts.set(path, { handler, hits: 0 });
  };
  const replySequence = (path: string, replies: ScriptedReply[]): void => {
    if (replies.length === 0) throw new Error('replySequence needs at least one reply');
    script(path, (_req, res, n) => send(res, replies[Math.min(n, replies.length) - 1]));
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    requestsTo: (path) => requests.filter((r) => r.path === path),
    script,
    reply: (path, status, body, opts = {}) => replySequence(path, [{ status, body, ...opts }]),
    replySequence,
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        // Cut pending delays short; their responses see a destroyed socket and send nothing.
        for (const [timer, wake] of delays) {
          clearTimeout(timer);
          wake();
        }
        delays.clear();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
