/** The package ships no types; this is the part libs/redis/src/keys.spec.ts uses. */
declare module 'cluster-key-slot' {
  /** The Redis Cluster slot (0–16383) of a key, honouring its hash tag as Redis does. */
  function calculateSlot(key: string | Buffer): number;
  namespace calculateSlot {
    /** The keys' common slot, or -1 when they do not all share one. */
    function generateMulti(keys: (string | Buffer)[]): number;
  }
  export = calculateSlot;
}
