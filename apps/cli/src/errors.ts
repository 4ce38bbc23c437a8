/** Exit codes, documented in the README; scripts branch on them. */
export const EXIT = {
  ok: 0,
  /** Server error, network failure, a failed doctor check, anything unexpected. */
  failure: 1,
  /** Bad arguments, an inline value refused, no URL or token configured. */
  usage: 2,
  /** A confirmation was declined, or was needed without a terminal and without --yes. */
  aborted: 3,
  /** 401 or 403 from the server. */
  denied: 4,
  /** 404: the group, secret or reference does not exist. */
  notFound: 5,
  /** 409, 422, 424: the server refused the change (exists already, invalid, no secret store). */
  rejected: 6,
} as const;

/** An error the CLI reports as one line on stderr with its exit code. Never carries a secret value. */
export class CliError extends Error {
  readonly exitCode: number;
  /** The HTTP status behind it, when a server answered. */
  readonly status?: number;
  constructor(message: string, exitCode: number = EXIT.failure, status?: number) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.status = status;
  }
}

export function exitCodeForStatus(status: number): number {
  if (status === 401 || status === 403) return EXIT.denied;
  if (status === 404) return EXIT.notFound;
  if (status === 409 || status === 422 || status === 424 || status === 400) return EXIT.rejected;
  return EXIT.failure;
}
