// Errors that retrying cannot fix. Their names go into every activity profile's nonRetryableErrorTypes.
export const NON_RETRYABLE_ERROR_NAMES = [
  'ConfigError',
  'DataFormatError',
  'CorruptArtifactError',
  'MissingModelError',
] as const;
export type NonRetryableErrorName = (typeof NON_RETRYABLE_ERROR_NAMES)[number];

abstract class SptarError extends Error {
  abstract override readonly name: NonRetryableErrorName;
}

/** The configuration is invalid; the message lists every problem as path, expected, got. */
export class ConfigError extends SptarError {
  override readonly name = 'ConfigError' as const;
}

/** An input file has a malformed row; the message names file, line and reason. */
export class DataFormatError extends SptarError {
  override readonly name = 'DataFormatError' as const;
}

/** A stored artifact does not match its recorded checksum or format. */
export class CorruptArtifactError extends SptarError {
  override readonly name = 'CorruptArtifactError' as const;
}

/** A model file is missing or unusable; the message says how to install it. */
export class MissingModelError extends SptarError {
  override readonly name = 'MissingModelError' as const;
}
