// Append-only typed arrays that double when full: index building does not know its sizes in advance.

type Ctor<T> = new (length: number) => T;

class Growable<T extends Uint32Array | Uint16Array> {
  private buf: T;
  length = 0;

  constructor(
    private readonly ctor: Ctor<T>,
    initial = 1 << 16,
  ) {
    this.buf = new ctor(initial);
  }

  push(value: number): void {
    if (this.length === this.buf.length) {
      const next = new this.ctor(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = value;
  }

  /** Overwrites an element already pushed. */
  set(i: number, value: number): void {
    this.buf[i] = value;
  }

  get(i: number): number {
    return this.buf[i]!;
  }

  /** A copy trimmed to the used length. */
  toArray(): T {
    return this.buf.slice(0, this.length) as T;
  }
}

export class GrowableUint32 extends Growable<Uint32Array> {
  constructor(initial?: number) {
    super(Uint32Array, initial);
  }
}

export class GrowableUint16 extends Growable<Uint16Array> {
  constructor(initial?: number) {
    super(Uint16Array, initial);
  }
}
