// The baseline's worker process. Env: REDIS_URL, CONCURRENCY (default 100, Hookrunner's default).
// Answers the IPC message 'memory' with process.memoryUsage().
import { Worker } from 'bullmq';
import Redis from 'ioredis';
import { Agent, request } from 'undici';
import {
  eventsChannel,
  MERGE_AND_PUBLISH_LUA,
  PREFIX,
  profileKey,
  QUEUE,
  SESSION_TTL_SECONDS,
  sessionKey,
  validateReply,
} from './pipeline.mjs';

const TIMEOUT_MS = 10_000;
const connection = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
const redis = new Redis(process.env.REDIS_URL);
redis.defineCommand('mergeAndPublish', { numberOfKeys: 2, lua: MERGE_AND_PUBLISH_LUA });
const agent = new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000 });

const encode = (map) => Object.entries(map).flatMap(([field, value]) => [field, JSON.stringify(value)]);

async function run(job) {
  const call = job.data;
  const res = await request(call.url, {
    dispatcher: agent,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'idempotency-key': call.callId },
    body: JSON.stringify(call.params),
    headersTimeout: TIMEOUT_MS,
    bodyTimeout: TIMEOUT_MS,
  });
  const body = await res.body.text();
  if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`endpoint answered ${res.statusCode}`);
  const reply = validateReply(body);
  if (reply instanceof Error) throw reply;
  const memory = encode(reply.memory);
  const event = JSON.stringify({
    type: 'call.succeeded',
    callId: call.callId,
    botId: call.botId,
    userId: call.userId,
    sessionId: call.sessionId,
    responses: reply.responses,
    quickreplies: reply.quickreplies,
    changes: { memory: reply.memory, userAttributes: reply.user_attributes },
    durationMs: Date.now() - call.enqueuedAt,
  });
  await redis.mergeAndPublish(
    sessionKey(call.botId, call.userId, call.sessionId),
    profileKey(call.botId, call.userId),
    SESSION_TTL_SECONDS,
    eventsChannel(call.botId),
    event,
    memory.length / 2,
    ...memory,
    ...encode(reply.user_attributes),
  );
}

const worker = new Worker(QUEUE, run, {
  connection,
  prefix: PREFIX,
  concurrency: Number(process.env.CONCURRENCY ?? 100),
});
worker.on('error', (err) => console.error(`baseline worker: ${err.message}`));
worker.on('failed', (job, err) => console.error(`baseline call ${job?.id} failed: ${err.message}`));
process.on('message', (message) => message === 'memory' && process.send({ memory: process.memoryUsage() }));

const close = async () => {
  await worker.close();
  await Promise.all([connection.quit(), redis.quit(), agent.close()]);
  process.exit(0);
};
process.once('SIGTERM', close);
process.once('SIGINT', close);
