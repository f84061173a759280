import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster, Redis, Result } from 'ioredis';

/**
 * Every Lua script Hookrunner runs. Each lives in `lua/<file>.lua` with its KEYS/ARGV contract at
 * the top, touches keys of one hash slot only (see keys.ts), and is defined once per connection
 * by defineScripts: ioredis then calls it by EVALSHA, falling back to EVAL once per connection, so
 * no script travels as text per call. The command names below are typed on every client and
 * pipeline (the module augmentation at the end of this file), so callers need no casts.
 */
export const SCRIPTS = {
  hookrunnerMergeState: { file: 'merge-state', keys: 3 },
  hookrunnerPublishEvent: { file: 'publish-event', keys: 2 },
  hookrunnerAdmitCalls: { file: 'admit-calls', keys: 3 },
  hookrunnerReleaseIdempotencyKey: { file: 'release-idempotency-key', keys: 1 },
  hookrunnerCreateWebhook: { file: 'create-webhook', keys: 1 },
  hookrunnerReplaceWebhook: { file: 'replace-webhook', keys: 1 },
  hookrunnerRotateSigningSecret: { file: 'rotate-signing-secret', keys: 1 },
  hookrunnerCallTransition: { file: 'call-transition', keys: 3 },
  hookrunnerCircuit: { file: 'circuit', keys: 1 },
  hookrunnerTurnPart: { file: 'turn-part', keys: 1 },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

const sources = new Map<ScriptName, string>();

/** A script's source, read from disk once per process. */
export function scriptSource(name: ScriptName): string {
  let lua = sources.get(name);
  if (lua === undefined) {
    lua = readFileSync(join(__dirname, 'lua', `${SCRIPTS[name].file}.lua`), 'utf8');
    sources.set(name, lua);
  }
  return lua;
}

/** Defines every script on a client that runs Hookrunner's own commands; returns the client. */
export function defineScripts<T extends Redis | Cluster>(client: T): T {
  for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
    client.defineCommand(name, { numberOfKeys: SCRIPTS[name].keys, lua: scriptSource(name) });
  }
  return client;
}

type Arg = string | number | Buffer;

/** circuit.lua's reply: state, openedAt, reopensAt, attempts, failures, allowed, probe, transition. */
export type CircuitReplyRaw = [string, number, number, number, number, number, number, string];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    hookrunnerMergeState(session: string, profile: string, applied: string, ...args: Arg[]): Result<string, Context>;
    hookrunnerPublishEvent(marker: string, stream: string, ...args: Arg[]): Result<number, Context>;
    hookrunnerAdmitCalls(
      bucket: string,
      webhooks: string,
      pending: string,
      ...args: Arg[]
    ): Result<[1, number, ...(string | null)[]] | [0, number], Context>;
    hookrunnerReleaseIdempotencyKey(key: string, callId: string): Result<number, Context>;
    hookrunnerCreateWebhook(webhooks: string, ...args: Arg[]): Result<'ok' | 'exists' | 'limit', Context>;
    hookrunnerReplaceWebhook(webhooks: string, ...args: Arg[]): Result<number, Context>;
    hookrunnerRotateSigningSecret(secrets: string, ...args: Arg[]): Result<number, Context>;
    hookrunnerCallTransition(
      record: string,
      log: string,
      event: string,
      ...args: Arg[]
    ): Result<1 | string | null, Context>;
    hookrunnerCircuit(circuit: string, ...args: Arg[]): Result<CircuitReplyRaw, Context>;
    hookrunnerTurnPart(parts: string, ...args: Arg[]): Result<string[] | null, Context>;
  }
}
