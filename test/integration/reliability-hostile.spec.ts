import { readFileSync } from 'node:fs';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import type { CallEvent } from '@hookrunner/contracts';
import {
  ApiClient,
  AppProcess,
  createWebhook,
  enqueueCall,
  EventCollector,
  pollUntil,
  SplitDeployment,
  startSplitDeployment,
  TestEndpoint,
} from '../support';

/*
 * The item 5: endpoints that never answer, trickle, stream forever, flood headers, hang up
 * mid-body, answer HTML or redirect. Each call must end in one clear call.failed event within its
 * timeout budget, the worker's memory must stay bounded, and ordinary calls must keep flowing
 * while hostile ones are in flight.
 */

const BOT = 'hostile-bot';
const TIMEOUT_MS = 1_500;
const BACKOFF_MS = 100;
/** Start-up of the attempt, the results consumer and pub/sub on a busy 2-core machine. */
const SLACK_MS = 3_000;
/** What a worker may hold after reading hostile replies; it starts around 100 MB. */
const MAX_WORKER_RSS_MB = 300;

describe('hostile and broken endpoints', () => {
  let deployment: SplitDeployment;
  let endpoint: TestEndpoint;
  let headerFlood: Server;
  let headerFloodUrl: string;
  const floodSockets = new Set<Socket>();
  let events: EventCollector;
  let http: ApiClient;
  let worker: AppProcess;
  /** Timers and streams a hostile handler keeps going until its client hangs up. */
  const stoppers = new Set<() => void>();

  beforeAll(async () => {
    deployment = await startSplitDeployment();
    ({ endpoint, api: http } = deployment);
    [worker] = deployment.apps.worker;
    scriptHostileEndpoints(endpoint, stoppers);
    headerFlood = await startHeaderFlood(floodSockets);
    headerFloodUrl = `http://127.0.0.1:${(headerFlood.address() as AddressInfo).port}/flood`;
    events = await deployment.subscribe(BOT);

    const hooks: Array<[string, string, number]> = [
      ['silent', `${endpoint.url}/silent`, 2],
      ['trickle', `${endpoint.url}/trickle`, 1],
      ['endless', `${endpoint.url}/endless`, 1],
      ['header-flood', headerFloodUrl, 2],
      ['hang-up', `${endpoint.url}/hang-up`, 2],
      ['html', `${endpoint.url}/html`, 2],
      ['redirect', `${endpoint.url}/redirect`, 2],
      ['ok', `${endpoint.url}/ok`, 1],
    ];
    for (const [name, url, attempts] of hooks) {
      await createWebhook(http, BOT, {
        name,
        method: 'POST',
        url,
        timeoutMs: TIMEOUT_MS,
        retry: { attempts, backoffMs: BACKOFF_MS },
      });
    }
  });

  afterAll(async () => {
    for (const stop of stoppers) stop();
    await deployment?.stop();
    for (const socket of floodSockets) socket.destroy();
    await new Promise((resolve) => (headerFlood ? headerFlood.close(resolve) : resolve(undefined)));
  });

  /** Enqueues one call to `webhook` and resolves with its terminal event and how long it took. */
  async function runCall(webhook: string, attempts: number): Promise<{ event: CallEvent; elapsedMs: number }> {
    const started = Date.now();
    const callId = await enqueueCall(http, BOT, { webhook, userId: `user-${webhook}` });
    const budget = TIMEOUT_MS * attempts + BACKOFF_MS * attempts + SLACK_MS;
    const event = await events.waitFor(callId, budget);
    const elapsedMs = Date.now() - started;
    expect(elapsedMs).toBeLessThan(budget);
    expect(events.forCall(callId)).toHaveLength(1);
    const status = await http.get(`/v1/calls/${callId}`);
    expect(status.body).toMatchObject({ status: 'failed', error: event.error });
    return { event, elapsedMs };
  }

  function workerRssMb(): number {
    const status = readFileSync(`/proc/${worker.pid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1]);
    return kb / 1024;
  }

  it('fails an endpoint that never answers as a timeout, once per attempt', async () => {
    const { event, elapsedMs } = await runCall('silent', 2);
    expect(event).toMatchObject({ type: 'call.failed', attempts: 2, responses: [], error: { type: 'timeout' } });
    expect(event.error!.message).toMatch(/timed out/);
    // Each attempt waited out its timeout rather than giving up early.
    expect(elapsedMs).toBeGreaterThanOrEqual(2 * TIMEOUT_MS);
    expect(endpoint.requestsTo('/silent')).toHaveLength(2);
  });

  it('fails an endpoint that trickles its body a byte a second as a timeout, within timeoutMs', async () => {
    const { event } = await runCall('trickle', 1);
    expect(event).toMatchObject({ type: 'call.failed', attempts: 1, error: { type: 'timeout' } });
    expect(event.error!.message).toMatch(/timed out/);
  });

  it('stops reading an endless body at the size limit, as invalid_response, with bounded memory', async () => {
    const { event } = await runCall('endless', 1);
    expect(event).toMatchObject({ type: 'call.failed', attempts: 1, error: { type: 'invalid_response' } });
    expect(event.error!.message).toMatch(/body exceeds \d+ bytes/);
    expect(workerRssMb()).toBeLessThan(MAX_WORKER_RSS_MB);
  });

  it('fails an endless header section at once as invalid_response naming the headers, in bounded memory', async () => {
    const { event } = await runCall('header-flood', 2);
    expect(event).toMatchObject({ type: 'call.failed', attempts: 1, error: { type: 'invalid_response' } });
    expect(event.error!.message).toMatch(/HEADERS_OVERFLOW|header/i);
    expect(workerRssMb()).toBeLessThan(MAX_WORKER_RSS_MB);
  });

  it('fails a connection closed mid-body as a network error after every attempt', async () => {
    const { event } = await runCall('hang-up', 2);
    expect(event).toMatchObject({ type: 'call.failed', attempts: 2, error: { type: 'network' } });
    expect(event.error!.message).toBe('connection closed before the response was complete (UND_ERR_SOCKET)');
    expect(endpoint.requestsTo('/hang-up')).toHaveLength(2);
  });

  it('fails a 200 with an HTML body as invalid_response at once, saying it is not JSON', async () => {
    const { event } = await runCall('html', 2);
    expect(event).toMatchObject({ type: 'call.failed', attempts: 1, error: { type: 'invalid_response' } });
    expect(event.error!.message).toMatch(/not valid JSON/);
    expect(endpoint.requestsTo('/html')).toHaveLength(1);
  });

  it('does not follow a 301: it fails as http_status naming the target, which is never requested', async () => {
    const { event } = await runCall('redirect', 2);
    expect(event).toMatchObject({ type: 'call.failed', attempts: 1, error: { type: 'http_status', httpStatus: 301 } });
    expect(event.error!.message).toContain(`${endpoint.url}/elsewhere`);
    expect(endpoint.requestsTo('/redirect')).toHaveLength(1);
    expect(endpoint.requestsTo('/elsewhere')).toHaveLength(0);
  });

  it('completes an ordinary call promptly while hostile calls are in flight', async () => {
    const silentBefore = endpoint.requestsTo('/silent').length;
    const trickleBefore = endpoint.requestsTo('/trickle').length;
    const hostile = await Promise.all(
      ['silent', 'silent', 'trickle', 'trickle', 'endless', 'header-flood'].map((webhook, i) =>
        enqueueCall(http, BOT, { webhook, userId: `busy-${i}` }),
      ),
    );
    // The hostile calls have reached their endpoints and are holding connections open.
    await pollUntil(
      () =>
        endpoint.requestsTo('/silent').length >= silentBefore + 2 &&
        endpoint.requestsTo('/trickle').length >= trickleBefore + 2,
      {
        timeoutMs: 5_000,
        message: 'the hostile calls did not reach their endpoints',
      },
    );

    const started = Date.now();
    const callId = await enqueueCall(http, BOT, { webhook: 'ok', userId: 'patient' });
    const event = await events.waitFor(callId, 5_000);
    const elapsedMs = Date.now() - started;

    expect(event).toMatchObject({ type: 'call.succeeded', responses: ['still here'] });
    expect(elapsedMs).toBeLessThan(1_000);
    // The slow hostile calls had not ended yet: the ordinary one did not wait behind them.
    const slow = hostile.slice(0, 4);
    expect(slow.filter((id) => events.forCall(id).length > 0)).toEqual([]);

    const ended = await events.waitForAll(hostile, 2 * TIMEOUT_MS + 2 * BACKOFF_MS + SLACK_MS);
    expect(ended.map((e) => e.type)).toEqual(hostile.map(() => 'call.failed'));
    expect(workerRssMb()).toBeLessThan(MAX_WORKER_RSS_MB);
  });
});

function scriptHostileEndpoints(endpoint: TestEndpoint, stoppers: Set<() => void>): void {
  /** Runs `stop` when the client hangs up or the suite ends, whichever comes first. */
  const untilClosed = (res: ServerResponse, stop: () => void) => {
    const once = () => {
      stoppers.delete(once);
      stop();
    };
    stoppers.add(once);
    res.once('close', once);
  };

  // Never answers: the request is read and the connection left open.
  endpoint.script('/silent', () => undefined);

  endpoint.script('/trickle', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{');
    const timer = setInterval(() => res.write(' '), 1_000);
    untilClosed(res, () => clearInterval(timer));
  });

  endpoint.script('/endless', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"responses":["');
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let open = true;
    untilClosed(res, () => (open = false));
    const pump = (): void => {
      while (open && !res.destroyed) {
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });

  endpoint.script('/hang-up', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    res.write('{"responses":["cut', () => res.socket?.destroy());
  });

  endpoint.script('/html', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><html><body><h1>Welcome</h1></body></html>');
  });

  endpoint.script('/redirect', (_req, res) => {
    res.writeHead(301, { location: `${endpoint.url}/elsewhere` });
    res.end();
  });
  endpoint.reply('/elsewhere', 200, { responses: ['followed a redirect'] });

  endpoint.reply('/ok', 200, { responses: ['still here'] });
}

/** A raw TCP server: a status line, then header lines for as long as the client keeps reading. */
async function startHeaderFlood(sockets: Set<Socket>): Promise<Server> {
  const line = Buffer.from(`X-Flood: ${'f'.repeat(1_000)}\r\n`);
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined); // the client hanging up is the expected end
    socket.once('close', () => sockets.delete(socket));
    socket.write('HTTP/1.1 200 OK\r\n');
    const pump = (): void => {
      while (!socket.destroyed) {
        if (!socket.write(line)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
