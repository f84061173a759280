// The webhook endpoint of the benchmark, run as its own process: answers every request with the
// same small reply, at once, or after SLOW_MS for paths under /slow, or never for paths under
// /never (a dead server that accepts connections; the caller's timeout ends it). Kept minimal so that the
// endpoint costs as little CPU as possible and the pipelines under test get the rest.
import { createServer } from 'node:http';

const port = Number(process.env.PORT);
const slowMs = Number(process.env.SLOW_MS ?? 200);
const REPLY = Buffer.from('{"responses":["ok"],"memory":{"n":1}}');
const HEADERS = { 'content-type': 'application/json', 'content-length': String(REPLY.length) };

const server = createServer((req, res) => {
  const answer = () => {
    res.writeHead(200, HEADERS);
    res.end(REPLY);
  };
  // Read the request body before answering, as a real endpoint would.
  req.on('data', () => undefined);
  req.on('end', () => {
    if (req.url.startsWith('/never')) return;
    if (req.url.startsWith('/slow')) setTimeout(answer, slowMs);
    else answer();
  });
});
// The callers keep connections alive for 10 s; never close one under them first.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;
server.listen(port, '127.0.0.1');

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
