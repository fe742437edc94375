import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'minio';
import type { ArtifactRef } from '../../common/artifact-ref.ts';
import {
  assertValidKey,
  checksumMismatch,
  checksumNotRecorded,
  hashFile,
  recordedChecksumMismatch,
  sha256Hex,
  toBytes,
  type ArtifactStore,
} from './artifact-store.ts';

export interface S3Settings {
  /** e.g. http://127.0.0.1:9000 */
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly bucket: string;
  readonly region: string;
}

const SHA_META = 'x-amz-meta-sha256';

/**
 * Artifacts in any S3-compatible object store (MinIO, AWS S3, ...) through the `minio` client. Each object carries
 * the sha256 of its bytes as user metadata, written with the object in one atomic PUT; every read checks the bytes
 * against it (or against the ref it is given).
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly location: string;
  private readonly client: Client;
  private bucketReady: Promise<void> | undefined;

  constructor(private readonly settings: S3Settings) {
    const url = new URL(settings.endpoint);
    const useSSL = url.protocol === 'https:';
    this.client = new Client({
      endPoint: url.hostname,
      port: url.port ? Number(url.port) : useSSL ? 443 : 80,
      useSSL,
      accessKey: settings.accessKey,
      secretKey: settings.secretKey,
      region: settings.region,
      pathStyle: true,
    });
    this.location = `s3://${settings.bucket}`;
  }

  /** Creates the bucket on first use; idempotent across workers. */
  private ensureBucket(): Promise<void> {
    this.bucketReady ??= (async () => {
      if (await this.client.bucketExists(this.settings.bucket)) return;
      try {
        await this.client.makeBucket(this.settings.bucket, this.settings.region);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw err;
      }
    })().catch((err: unknown) => {
      this.bucketReady = undefined;
      throw err;
    });
    return this.bucketReady;
  }

  async put(key: string, data: Uint8Array | string): Promise<ArtifactRef> {
    assertValidKey(key);
    await this.ensureBucket();
    const bytes = toBytes(data);
    const ref = { key, sha256: sha256Hex(bytes), bytes: bytes.byteLength };
    await this.client.putObject(this.settings.bucket, key, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), bytes.byteLength, {
      [SHA_META]: ref.sha256,
    });
    return ref;
  }

  async putFile(key: string, path: string): Promise<ArtifactRef> {
    assertValidKey(key);
    await this.ensureBucket();
    const ref = { key, ...(await hashFile(path)) };
    await this.client.fPutObject(this.settings.bucket, key, path, { [SHA_META]: ref.sha256 });
    return ref;
  }

  async getFile(key: string | ArtifactRef, path: string): Promise<void> {
    const k = typeof key === 'string' ? key : key.key;
    assertValidKey(k);
    await this.ensureBucket();
    await mkdir(dirname(path), { recursive: true });
    const stream = await this.client.getObject(this.settings.bucket, k);
    const recorded = typeof key === 'string' ? await this.recordedSha(k, stream) : undefined;
    const h = createHash('sha256');
    let bytes = 0;
    try {
      await pipeline(
        stream,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            h.update(chunk);
            bytes += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(path),
      );
      this.verify(key, recorded, { sha256: h.digest('hex'), bytes });
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
  }

  async get(key: string | ArtifactRef): Promise<Uint8Array> {
    const k = typeof key === 'string' ? key : key.key;
    assertValidKey(k);
    await this.ensureBucket();
    const stream = await this.client.getObject(this.settings.bucket, k);
    const recorded = typeof key === 'string' ? await this.recordedSha(k, stream) : undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const data = new Uint8Array(Buffer.concat(chunks));
    this.verify(key, recorded, { sha256: sha256Hex(data), bytes: data.byteLength });
    return data;
  }

  /**
   * The sha256 recorded with the object a GET is returning, from the response's headers (the same version of the
   * object as the body); from a HEAD request only when the client does not expose them.
   */
  private async recordedSha(key: string, response: Readable): Promise<string | undefined> {
    const headers = (response as Readable & { headers?: IncomingHttpHeaders }).headers;
    if (headers !== undefined) {
      const value = headers[SHA_META];
      return typeof value === 'string' && value !== '' ? value : undefined;
    }
    try {
      return (await this.stat(key))?.sha256;
    } catch (err) {
      response.destroy();
      throw err;
    }
  }

  /** Bytes read with a ref must match the ref; bytes read by key must match the sha256 recorded with the object. */
  private verify(key: string | ArtifactRef, recorded: string | undefined, actual: { sha256: string; bytes: number }): void {
    if (typeof key !== 'string') {
      if (actual.sha256 !== key.sha256 || actual.bytes !== key.bytes) throw checksumMismatch(key, actual, this.location);
      return;
    }
    const where = `its ${SHA_META} metadata`;
    if (recorded === undefined) throw checksumNotRecorded(key, this.location, where);
    if (recorded !== actual.sha256) throw recordedChecksumMismatch(key, this.location, where, [recorded], actual);
  }

  async stat(key: string): Promise<ArtifactRef | undefined> {
    assertValidKey(key);
    await this.ensureBucket();
    try {
      const info = await this.client.statObject(this.settings.bucket, key);
      const meta = info.metaData as Record<string, string | undefined>;
      const sha256 = meta['sha256'] ?? meta[SHA_META];
      if (!sha256) return undefined;
      return { key, sha256, bytes: info.size };
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'NotFound' || code === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    await this.ensureBucket();
    const keys: string[] = [];
    for await (const item of this.client.listObjectsV2(this.settings.bucket, prefix, true)) {
      const name = (item as { name?: string }).name;
      if (name) keys.push(name);
    }
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.ensureBucket();
    await this.client.removeObject(this.settings.bucket, key);
  }
}
