/**
 * How the command fails: a UsageError (the command line is wrong: exit 2) or anything else (a
 * runtime failure: exit 1). Either way one line on stderr, the stack only with --debug.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Training stopped by Ctrl-C after saving a checkpoint: exit 130, as shells expect for SIGINT. */
export class Interrupted extends Error {
  override name = 'Interrupted';
}

export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;
