// The raw baseline: the work of one Hookrunner call done by hand on the bare stack — a BullMQ
// queue, a worker that calls the endpoint with undici and validates the JSON, and one Lua call
// that merges memory and attributes and PUBLISHes the event. No API, framework or metrics.
// Queue and keys live under their own prefix, so it can share Redis with Hookrunner.
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';

export const QUEUE = 'calls';
export const PREFIX = '{baseline}';
export const SESSION_TTL_SECONDS = 600;

export const eventsChannel = (botId) => `baseline:events:${botId}`;
export const sessionKey = (botId, userId, sessionId) => `baseline:user:{${botId}/${userId}}:session:${sessionId}`;
export const profileKey = (botId, userId) => `baseline:user:{${botId}/${userId}}:profile`;

/** Hookrunner's defaults for completed and failed jobs, so both queues keep the same history. */
const JOB_OPTIONS = { attempts: 1, removeOnComplete: { age: 60, count: 1_000 }, removeOnFail: { age: 7 * 24 * 3600 } };

/**
 * KEYS = session, profile. ARGV = sessionTtlSeconds, channel, eventJson, nMemory,
 * (field, json)*, then (field, json)* for the profile.
 */
export const MERGE_AND_PUBLISH_LUA = `
local n = tonumber(ARGV[4])
for i = 5, 4 + 2 * n, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = 5 + 2 * n, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`;

/** What a call job carries: who it is for and the request to make. */
export function callJob(botId, userId, url) {
  return {
    callId: randomUUID(),
    botId,
    userId,
    sessionId: 'default',
    url,
    params: {},
    memory: {},
    user: {},
    enqueuedAt: Date.now(),
  };
}

export function openProducer(connection) {
  const queue = new Queue(QUEUE, { connection, prefix: PREFIX });
  const entry = (data) => ({ name: 'call', data, opts: { ...JOB_OPTIONS, jobId: data.callId } });
  return {
    add: (data) => queue.add('call', data, entry(data).opts),
    addBulk: (calls) => queue.addBulk(calls.map(entry)),
    close: () => queue.close(),
  };
}

/** The reply, or an Error naming what is wrong with it: a JSON object, string lists, object maps. */
export function validateReply(body) {
  let reply;
  try {
    reply = JSON.parse(body);
  } catch (err) {
    return new Error(`body is not JSON: ${err.message}`);
  }
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply))
    return new Error('body must be a JSON object');
  for (const key of ['responses', 'quickreplies']) {
    const list = reply[key] ?? [];
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string'))
      return new Error(`${key} must be an array of strings`);
  }
  for (const key of ['memory', 'user_attributes']) {
    const map = reply[key] ?? {};
    if (typeof map !== 'object' || map === null || Array.isArray(map)) return new Error(`${key} must be an object`);
  }
  return {
    responses: reply.responses ?? [],
    quickreplies: reply.quickreplies ?? [],
    memory: reply.memory ?? {},
    user_attributes: reply.user_attributes ?? {},
  };
}
