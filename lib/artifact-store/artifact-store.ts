import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { CorruptArtifactError } from '../../common/errors.ts';
import type { ArtifactRef } from '../../common/artifact-ref.ts';

/**
 * Where every byte of pipeline data lives. Keys are derived from the inputs that produced an artifact, so writing
 * the same key twice stores the same bytes and a retried activity is idempotent.
 */
export interface ArtifactStore {
  /** Human-readable location, e.g. `s3://bucket` or `file:///path`, for logs and reports. */
  readonly location: string;
  put(key: string, data: Uint8Array | string): Promise<ArtifactRef>;
  /** Stores a local file (streamed, for artifacts too large to hold in memory). */
  putFile(key: string, path: string): Promise<ArtifactRef>;
  /** Writes an artifact to a local file (streamed); with a ref, verifies the checksum. */
  getFile(key: string | ArtifactRef, path: string): Promise<void>;
  /** Reads an artifact; with a ref, verifies its checksum and fails with CorruptArtifactError on mismatch. */
  get(key: string | ArtifactRef): Promise<Uint8Array>;
  /** The ref of a stored artifact, or undefined when there is none. */
  stat(key: string): Promise<ArtifactRef | undefined>;
  /** Keys under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 and size of a file, streamed. */
export async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    h.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), bytes };
}

export function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? new TextEncoder().encode(data) : data;
}

/** Names the local store keeps for itself: the checksum sidecar beside each object and the folder of files being written. */
export const SIDECAR_SUFFIX = '.sha256';
export const TEMP_DIR_NAME = '.sptar-tmp';

/** Keys are relative paths of safe segments; this keeps S3 and directory stores interchangeable. */
export function assertValidKey(key: string): void {
  if (!/^[A-Za-z0-9._=-]+(\/[A-Za-z0-9._=-]+)*$/.test(key) || key.split('/').some((s) => s === '.' || s === '..')) {
    throw new Error(`invalid artifact key '${key}': use '/'-separated segments of letters, digits, '.', '_', '=', '-'`);
  }
  if (key.endsWith(SIDECAR_SUFFIX) || key.split('/').includes(TEMP_DIR_NAME)) {
    throw new Error(`invalid artifact key '${key}': keys ending in '${SIDECAR_SUFFIX}' and the segment '${TEMP_DIR_NAME}' are reserved for the store's own files`);
  }
}

export function checksumMismatch(ref: ArtifactRef, actual: { sha256: string; bytes: number }, location: string): CorruptArtifactError {
  return new CorruptArtifactError(
    `artifact ${location}/${ref.key} is corrupt: expected sha256 ${ref.sha256} (${ref.bytes} bytes), ` +
      `got ${actual.sha256} (${actual.bytes} bytes). Delete it so the stage that writes it runs again.`,
  );
}

/** Bytes read by key whose sha256 is not among the ones recorded for the key (`where`: the sidecar, the metadata). */
export function recordedChecksumMismatch(key: string, location: string, where: string, recorded: readonly string[], actual: { sha256: string; bytes: number }): CorruptArtifactError {
  return new CorruptArtifactError(
    `artifact ${location}/${key} is corrupt: its bytes have sha256 ${actual.sha256} (${actual.bytes} bytes), but ${where} records ` +
      `${recorded.join(' or ')}. Delete it so the stage that writes it runs again.`,
  );
}

/** Bytes read by key for which no sha256 is recorded, so nothing can vouch for them. */
export function checksumNotRecorded(key: string, location: string, where: string): CorruptArtifactError {
  return new CorruptArtifactError(
    `artifact ${location}/${key} cannot be verified: ${where} records no sha256 for it. Delete it so the stage that writes it runs again.`,
  );
}

/**
 * A write that did not complete. Retryable: whatever the key held before is still in place and verified, so the
 * activity can run again once the cause (typically a full disk) is gone. `code` is the errno name, when there is one.
 */
export class ArtifactWriteError extends Error {
  override readonly name = 'ArtifactWriteError' as const;
  readonly code: string | undefined;

  constructor(message: string, options: { code: string | undefined; cause: unknown }) {
    super(message, { cause: options.cause });
    this.code = options.code;
  }
}

export function verifyBytes(ref: ArtifactRef, data: Uint8Array, location: string): Uint8Array {
  const actual = sha256Hex(data);
  if (actual !== ref.sha256 || data.byteLength !== ref.bytes) {
    throw checksumMismatch(ref, { sha256: actual, bytes: data.byteLength }, location);
  }
  return data;
}
