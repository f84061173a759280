/**
 * The partition of a bot: FNV-1a (32 bits) of its id, modulo the number of partitions. Stable
 * across processes, versions and restarts, so every API process sends a bot's calls to the same
 * partition. Changing QUEUE_PARTITIONS moves bots between partitions; calls already queued stay
 * where they are and are still run, since every worker consumes every partition.
 */
export function partitionOf(botId: string, partitions: number): number {
  if (partitions <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < botId.length; i++) {
    hash ^= botId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}
