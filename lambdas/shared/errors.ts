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

/**
 * Query parameter names for an answer's reason: anything but word characters, `.` and `-` becomes `?`, and each is
 * cut at 40, so an answer (and the log line that quotes it) never echoes a crafted query.
 */
export function parameterNamesForAnswer(names: readonly string[]): string {
  return names.map((name) => name.replace(/[^\w.-]/g, '?').slice(0, 40)).join(', ');
}

/** A secret was read but holds something unusable: a configuration error, named by key (never by value). */
export class SecretConfigurationError extends Error {
  override readonly name = 'SecretConfigurationError';
}
