import { WebhookReply } from '@hookrunner/contracts';

/*
 * The reference page's examples, as the JSON a builder's server would answer. Each takes the
 * webhook's params (the query of a GET, the JSON body of a POST) and returns the reply.
 */

/** Params as they arrive: strings from a query string, any JSON value from a body. */
export type ExampleParams = Record<string, unknown>;
export type ExampleReply = Partial<WebhookReply>;

/** A param that cannot be used; answered with 400 `{ error: message }`. */
export class InvalidExampleParams extends Error {}

/** `{ responses: ["Your random number is 14"], memory: { random_number: 14 } }`, min and max inclusive. */
export function randomNumber(params: ExampleParams, random: () => number = Math.random): ExampleReply {
  const min = toInteger(params.min);
  const max = toInteger(params.max);
  if (min === undefined || max === undefined || min > max) {
    throw new InvalidExampleParams('min and max must be integers with min <= max');
  }
  // Math.min guards the float rounding of a huge span from ever yielding max + 1.
  const value = Math.min(max, min + Math.floor(random() * (max - min + 1)));
  return { responses: [`Your random number is ${value}`], memory: { random_number: value } };
}

export function responses(): ExampleReply {
  return { responses: ['Hello from the webhook!', 'This line was added by a webhook.'] };
}

/** Stores `thing` (default "chocolate") in the session's memory, read back by a merge tag. */
export function memory(params: ExampleParams): ExampleReply {
  const thing = params.thing ?? '';
  if (typeof thing !== 'string') throw new InvalidExampleParams('thing must be a string');
  return {
    memory: { 'favourite-thing': thing || 'chocolate' },
    responses: ['I will remember that you like {{memory.favourite-thing}}.'],
  };
}

/** Stores `age` (default 25) on the user's profile, read back by a merge tag. */
export function userAttributes(params: ExampleParams): ExampleReply {
  const raw = params.age ?? '';
  const age = raw === '' ? 25 : typeof raw === 'number' || typeof raw === 'string' ? Number(raw) : NaN;
  if (!Number.isFinite(age)) throw new InvalidExampleParams('age must be a number');
  return { user_attributes: { age }, responses: ['You are {{user.age}} years old.'] };
}

export function quickreplies(): ExampleReply {
  return { responses: ['Pick one'], quickreplies: ['Yes', 'No', 'Maybe'] };
}

function toInteger(value: unknown): number | undefined {
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) value = Number(value);
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}
