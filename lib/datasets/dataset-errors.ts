// The one error a dataset fetch ends with. The message names the file or URL and the fix; `kind` says which step
// failed, so callers (and tests) can tell a network problem from a wrong archive without parsing the message.
/** 'download': reaching the server or receiving the file; 'verify': the archive against its pin; 'unpack': the zip;
 * 'folder': what is already at the target. */
export type DatasetErrorKind = 'download' | 'verify' | 'unpack' | 'folder';

export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  constructor(
    readonly kind: DatasetErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
