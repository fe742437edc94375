// Downloading an archive to a file while hashing it, and checking it against its pin before anyone opens it.
// One attempt, no resume: a download that stops early leaves a short file that the size check refuses.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { DatasetError } from './dataset-errors.ts';
import { formatBytes, type ArchivePin } from './dataset-registry.ts';

/** What a file turned out to be: its size and digests. */
export interface ArchiveFacts {
  readonly bytes: number;
  readonly sha256: string;
  readonly md5: string;
}

export interface DownloadProgress {
  readonly receivedBytes: number;
  /** The pinned size: what a complete download has. */
  readonly totalBytes: number;
}

export interface DownloadOptions {
  /** The pinned size: a server announcing another size, or sending more, is stopped at once. */
  readonly expectedBytes: number;
  readonly onProgress?: (p: DownloadProgress) => void;
  /** Give up when no byte arrives for this long (connecting included). */
  readonly stallTimeoutMs?: number;
}

const DEFAULT_STALL_TIMEOUT_MS = 60_000;

/** A pass-through stream that counts and hashes what flows through it. */
class HashingCounter extends Transform {
  bytes = 0;
  private readonly sha256: Hash = createHash('sha256');
  private readonly md5: Hash = createHash('md5');
  constructor(private readonly onChunk: (bytes: number) => void = () => {}) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    this.sha256.update(chunk);
    this.md5.update(chunk);
    try {
      this.onChunk(this.bytes);
    } catch (err) {
      done(err as Error);
      return;
    }
    done(null, chunk);
  }
  facts(): ArchiveFacts {
    return { bytes: this.bytes, sha256: this.sha256.digest('hex'), md5: this.md5.digest('hex') };
  }
}

/** The innermost reason of a fetch failure ("connect ECONNREFUSED 127.0.0.1:9", "other side closed"). */
export function networkReason(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 4; e = e.cause) parts.push(e.message);
  return parts.join(': ') || String(err);
}

/**
 * Downloads `url` into `dest` (created; it must not exist) and returns its size and digests. Fails with a
 * DatasetError of kind 'download' when the server cannot be reached, answers other than 200, announces or sends
 * more bytes than expected, or goes quiet; the caller removes `dest`.
 */
export async function downloadArchive(url: string, dest: string, options: DownloadOptions): Promise<ArchiveFacts> {
  const { expectedBytes, onProgress } = options;
  const stallMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const controller = new AbortController();
  let stall: NodeJS.Timeout | undefined;
  const armStall = () => {
    clearTimeout(stall);
    stall = setTimeout(() => controller.abort(new Error(`no data for ${stallMs / 1000} s`)), stallMs);
  };
  armStall();
  try {
    let response: Response;
    try {
      response = await fetch(url, { signal: controller.signal, redirect: 'follow' });
    } catch (err) {
      throw new DatasetError('download', `cannot download ${url}: ${networkReason(err)}`, { cause: err });
    }
    if (response.status !== 200 || !response.body) {
      await response.body?.cancel();
      throw new DatasetError('download', `cannot download ${url}: the server answered ${response.status} ${response.statusText}`.trimEnd());
    }
    const announced = response.headers.get('content-length');
    if (announced !== null && Number(announced) !== expectedBytes) {
      await response.body.cancel();
      throw new DatasetError('download', `${url} is ${formatBytes(Number(announced))} bytes by its Content-Length, not the pinned ${formatBytes(expectedBytes)}: not the expected archive`);
    }
    const counter = new HashingCounter((received) => {
      if (received > expectedBytes) throw new Error(`the server sent more than the pinned ${formatBytes(expectedBytes)} bytes`);
      armStall();
      onProgress?.({ receivedBytes: received, totalBytes: expectedBytes });
    });
    try {
      await pipeline(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>), counter, createWriteStream(dest, { flags: 'wx' }));
    } catch (err) {
      throw new DatasetError(
        'download',
        `download of ${url} stopped after ${formatBytes(counter.bytes)} of ${formatBytes(expectedBytes)} bytes: ${networkReason(err)}`,
        { cause: err },
      );
    }
    return counter.facts();
  } finally {
    clearTimeout(stall);
  }
}

/** Size and digests of a file already on disk (an archive downloaded by hand). */
export async function hashArchiveFile(path: string): Promise<ArchiveFacts> {
  const counter = new HashingCounter();
  await pipeline(createReadStream(path), counter, async function* drain(source: AsyncIterable<Buffer>) {
    for await (const chunk of source) void chunk;
  });
  return counter.facts();
}

/**
 * Checks an archive's facts against its pin: size first (a short file is a truncated download), then sha256, then
 * BEIR's MD5 where the pin has one. `source` names where the archive came from, for the message.
 */
export function verifyArchive(facts: ArchiveFacts, pin: ArchivePin, source: string): void {
  if (facts.bytes !== pin.bytes) {
    const why = facts.bytes < pin.bytes ? 'the download was cut short or the file is incomplete' : 'it is not the expected archive';
    throw new DatasetError('verify', `${source} is ${formatBytes(facts.bytes)} bytes, not the pinned ${formatBytes(pin.bytes)}: ${why}`);
  }
  if (facts.sha256 !== pin.sha256) {
    throw new DatasetError('verify', `${source} has sha256 ${facts.sha256}, not the pinned ${pin.sha256}: it is not the expected archive`);
  }
  if (pin.md5 !== null && facts.md5 !== pin.md5) {
    throw new DatasetError('verify', `${source} has MD5 ${facts.md5}, not BEIR's published ${pin.md5}`);
  }
}
