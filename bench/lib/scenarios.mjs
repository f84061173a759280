// The benchmark's scenarios. Each takes a context and a pipeline (see targets.mjs), runs once on a
// flushed Redis and returns what it measured; measureRun() adds Redis memory, worker memory and
// the CPU time every process spent.
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile } from './stats.mjs';
import { cpus } from 'node:os';
import { cpuMs, machineBusyMs, sampleRss } from './processes.mjs';

/**
 * ctx = { admin (ioredis), events (events.mjs), pids: { redis, endpoint } }.
 * Flushes Redis, lets the pipeline prepare its bot, runs `body(botId)` and adds the memory and CPU figures.
 */
export async function measureRun(ctx, target, label, run, body) {
  const botId = `${label}-${target.name}-${run}`;
  await ctx.admin.flushall();
  const usedMemoryAfterFlush = await usedMemory(ctx.admin);
  await target.prepare(botId);
  const pids = { ...target.pids(), ...ctx.pids };
  const cpuBefore = cpuOf(pids);
  const benchBefore = process.cpuUsage();
  const machineBefore = machineBusyMs();
  const startedAt = performance.now();
  const result = await body(botId);
  const wallMs = performance.now() - startedAt;
  const machineMs = machineBusyMs() - machineBefore;
  const cpuAfter = cpuOf(pids);
  const bench = process.cpuUsage(benchBefore);
  const cpu = Object.fromEntries(Object.keys(pids).map((name) => [name, cpuAfter[name] - cpuBefore[name]]));
  cpu.bench = (bench.user + bench.system) / 1000;
  const ours = Object.values(cpu).reduce((a, b) => a + b, 0);
  return {
    ...result,
    endedAt: new Date().toISOString(),
    cpuMs: cpu,
    // What the rest of the machine took meanwhile (other programs): a disturbed run shows here.
    otherLoad: Math.max(0, (machineMs - ours) / (wallMs * cpus().length)),
    redis: { usedMemoryAfterFlush, usedMemoryEnd: await usedMemory(ctx.admin), keysEnd: await ctx.admin.dbsize() },
    worker: await target.workerMemory(),
  };
}

/** N calls enqueued in batches (`parallel` requests in flight); calls/s from the first 202 to the last event. */
export function batched(ctx, target, { n, batch, parallel, webhook = 'fast', timeoutMs, workerPid }) {
  return async (botId) => {
    const stopRss = workerPid ? sampleRss(workerPid) : undefined;
    const { done, cancel } = ctx.events.expect(target.channel(botId), n, { timeoutMs });
    const started = performance.now();
    let first;
    let next = 0;
    const send = async () => {
      while (next < n) {
        const from = next;
        next = Math.min(n, next + batch);
        const userIds = Array.from({ length: next - from }, (_, i) => `u${from + i}`);
        await target.enqueueBatch(botId, userIds, webhook);
        first ??= performance.now();
      }
    };
    const enqueued = await Promise.all(Array.from({ length: parallel }, send)).then(
      () => performance.now(),
      (err) => {
        cancel();
        stopRss?.();
        throw err;
      },
    );
    const { lastAt, failed, firstFailure } = await done;
    return {
      calls: n,
      failed,
      firstFailure,
      callsPerSec: n / ((lastAt - first) / 1000),
      enqueuePerSec: n / ((enqueued - started) / 1000),
      seconds: (lastAt - first) / 1000,
      ...(stopRss ? { workerPeakRss: stopRss() } : {}),
    };
  };
}

/** N calls, one per request, from `connections` concurrent senders; calls/s from the first 202 to the last event. */
export function single(ctx, target, { n, connections, timeoutMs }) {
  return async (botId) => {
    const { done, cancel } = ctx.events.expect(target.channel(botId), n, { timeoutMs });
    const started = performance.now();
    let first;
    let next = 0;
    const send = async () => {
      while (next < n) {
        await target.enqueueOne(botId, `u${next++}`, 'fast');
        first ??= performance.now();
      }
    };
    const enqueued = await Promise.all(Array.from({ length: connections }, send)).then(
      () => performance.now(),
      (err) => {
        cancel();
        throw err;
      },
    );
    const { lastAt, failed, firstFailure } = await done;
    return {
      calls: n,
      failed,
      firstFailure,
      callsPerSec: n / ((lastAt - first) / 1000),
      enqueuePerSec: n / ((enqueued - started) / 1000),
      seconds: (lastAt - first) / 1000,
    };
  };
}

/**
 * `rate` calls/s for `durationS`, sent on schedule whatever the answers (an open loop, as chat
 * traffic is); latency = event received − request sent, both on this process's clock.
 */
export function latency(ctx, target, { rate, durationS, timeoutMs }) {
  return async (botId) => {
    const total = Math.max(1, Math.round(rate * durationS));
    const sentAt = new Float64Array(total);
    const latencies = [];
    const onEvent = (message, at) => {
      const index = /"userId":"l(\d+)"/.exec(message);
      if (index) latencies.push(at - sentAt[Number(index[1])]);
    };
    const { done, cancel } = ctx.events.expect(target.channel(botId), total, { timeoutMs, onEvent });
    let error;
    const started = performance.now();
    let sent = 0;
    while (sent < total && !error) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
      while (sent < due) {
        const i = sent++;
        sentAt[i] = performance.now();
        target.enqueueOne(botId, `l${i}`, 'fast').catch((err) => (error ??= err));
      }
      await sleep(1);
    }
    const sendSeconds = (performance.now() - started) / 1000;
    if (error) {
      cancel();
      throw error;
    }
    const { failed, firstFailure } = await done;
    const sorted = latencies.sort((a, b) => a - b);
    return {
      calls: total,
      failed,
      firstFailure,
      sentPerSec: total / sendSeconds,
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      p99: percentile(sorted, 0.99),
      max: sorted[sorted.length - 1],
    };
  };
}

/**
 * As latency(), every request with `waitMs`: for the same calls, the event's latency on the channel
 * and the waited reply's (200 received − request sent). What waiting adds is the difference.
 */
export function waited(ctx, target, { rate, durationS, waitMs, timeoutMs }) {
  return async (botId) => {
    const total = Math.max(1, Math.round(rate * durationS));
    const sentAt = new Float64Array(total);
    const eventLatencies = [];
    const replyLatencies = [];
    let notInTime = 0;
    const onEvent = (message, at) => {
      const index = /"userId":"w(\d+)"/.exec(message);
      if (index) eventLatencies.push(at - sentAt[Number(index[1])]);
    };
    const { done, cancel } = ctx.events.expect(target.channel(botId), total, { timeoutMs, onEvent });
    let error;
    const replies = [];
    const started = performance.now();
    let sent = 0;
    while (sent < total && !error) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
      while (sent < due) {
        const i = sent++;
        sentAt[i] = performance.now();
        const reply = target.enqueueWaited(botId, `w${i}`, 'fast', waitMs).then((status) => {
          if (status === 200) replyLatencies.push(performance.now() - sentAt[i]);
          else notInTime++;
        });
        replies.push(reply.catch((err) => (error ??= err)));
      }
      await sleep(1);
    }
    const sendSeconds = (performance.now() - started) / 1000;
    await Promise.all(replies);
    if (error) {
      cancel();
      throw error;
    }
    const { failed, firstFailure } = await done;
    const quantiles = (values) => {
      const sorted = values.sort((a, b) => a - b);
      return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
    };
    const event = quantiles(eventLatencies);
    const reply = quantiles(replyLatencies);
    return {
      calls: total,
      failed,
      firstFailure,
      notInTime,
      sentPerSec: total / sendSeconds,
      event,
      reply,
      addedP50: reply.p50 - event.p50,
      addedP99: reply.p99 - event.p99,
    };
  };
}

async function usedMemory(redis) {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))[1]);
}

function cpuOf(pids) {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
}
