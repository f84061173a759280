/** botId, userId and sessionId: 1–128 letters, digits, `-`, `_`, `.`, `:`. No braces, so ids never break a hash tag. */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9\-_.:]{1,128}$/;

export const DEFAULT_SESSION_ID = 'default';
