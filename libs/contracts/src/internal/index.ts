/** What the queues carry between Hookrunner's own processes: names, job payloads, retry timing. */
export * from './queues';
export * from './jobs';
