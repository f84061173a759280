// Listens to both pipelines' event channels (PSUBSCRIBE) and waits for a run's events.

/** `client` must be a fresh ioredis connection: it becomes a subscriber. */
export async function openEvents(client) {
  let current;
  client.on('pmessage', (_pattern, channel, message) => {
    if (current && channel === current.channel) current.onMessage(message);
  });
  await client.psubscribe('hookrunner:events:*', 'baseline:events:*');

  return {
    /**
     * Resolves once `count` events arrived on `channel` with { lastAt, failed, firstFailure }
     * (performance.now() of the last one; how many were call.failed, and the first one's error);
     * rejects after `timeoutMs`. `onEvent(message, at)`
     * sees each one. Call it before the first enqueue; cancel() stops waiting, never settling.
     */
    expect(channel, count, { timeoutMs, onEvent }) {
      let timer;
      const done = new Promise((resolve, reject) => {
        let received = 0;
        let failed = 0;
        let firstFailure;
        timer = setTimeout(() => {
          current = undefined;
          reject(
            new Error(
              `${received} of ${count} events on ${channel} ` +
                `within ${Math.round(timeoutMs / 1000)} s (${failed} failed)`,
            ),
          );
        }, timeoutMs);
        current = {
          channel,
          onMessage(message) {
            const at = performance.now();
            received++;
            if (message.includes('"type":"call.failed"') && failed++ === 0) firstFailure = JSON.parse(message).error;
            onEvent?.(message, at);
            if (received === count) {
              clearTimeout(timer);
              current = undefined;
              resolve({ lastAt: at, failed, firstFailure });
            }
          },
        };
      });
      const cancel = () => {
        clearTimeout(timer);
        current = undefined;
      };
      return { done, cancel };
    },
    close: () => client.quit(),
  };
}
