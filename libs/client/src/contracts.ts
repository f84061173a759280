/*
 * The names and codes this package shares with the API, from their one definition: the public
 * half of libs/contracts (never its internal half: job payloads and TTLs are not a client's business).
 * A relative import, not the `@hookrunner/contracts` alias, so that the client's own `tsc` build
 * compiles those files into dist/ beside the client (hence rootDir `..` in tsconfig.json and the
 * main file at dist/client/src/): `npm pack` stays self-contained, with nothing copied by hand.
 */
export { ErrorCode, EVENTS_STREAM, eventsChannel } from '../../contracts/src/public';
