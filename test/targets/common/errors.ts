/** An answer other than success: the HTTP status, a stable code and a message a person can act on. */
export class SyncError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new SyncError(400, 'BAD_REQUEST', message);
