/** A client-side fault in a request: answered with `statusCode` and `reason`, never retried by us. */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  constructor(
    readonly statusCode: 400 | 401 | 403 | 404 | 405 | 413 | 415,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** A secret was read but holds something unusable: a configuration error, named by key (never by value). */
export class SecretConfigurationError extends Error {
  override readonly name = 'SecretConfigurationError';
}
