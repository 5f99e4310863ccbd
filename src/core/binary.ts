/**
 * Reading and writing little-endian binary records whose every read and write is bounded:
 * the job protocol's messages, the mesh's announcements and their snapshots are encoded
 * and decoded with these two. A read past the end, a write past the record's bound, an
 * oversized string or invalid UTF-8 fails through the caller's `fail`, so each format
 * keeps its own typed error.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Options of {@link BoundedReader}. */
export interface BoundedReaderOptions {
  /** Makes the format's typed error. */
  readonly fail: (message: string, cause?: unknown) => Error
  /** What the record is called in messages ("message" → "message ends inside the version"). */
  readonly whole: string
}

/** A cursor over `buf`; every method names what it reads, for the error messages. */
export class BoundedReader {
  /** Bytes consumed so far. */
  pos = 0
  protected readonly buf: Uint8Array
  private readonly dv: DataView
  protected readonly fail: BoundedReaderOptions['fail']
  private readonly whole: string

  constructor (buf: Uint8Array, opts: BoundedReaderOptions) {
    this.buf = buf
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    this.fail = opts.fail
    this.whole = opts.whole
  }

  protected need (n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw this.fail(`${this.whole} ends inside ${what}`)
  }

  u8 (what: string): number { this.need(1, what); return this.buf[this.pos++] }
  u16 (what: string): number { this.need(2, what); const v = this.dv.getUint16(this.pos, true); this.pos += 2; return v }
  u32 (what: string): number { this.need(4, what); const v = this.dv.getUint32(this.pos, true); this.pos += 4; return v }
  /** A u64 that must fit a JavaScript safe integer. */
  u64 (what: string): number {
    this.need(8, what)
    const v = this.dv.getBigUint64(this.pos, true)
    this.pos += 8
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.fail(`${what} is out of range`)
    return Number(v)
  }

  /** `n` bytes, as a view into the record (copy it to keep it). */
  bytes (n: number, what: string): Uint8Array { this.need(n, what); return this.buf.subarray(this.pos, (this.pos += n)) }

  /** A UTF-8 string with a u16 byte length, at most `max` bytes. */
  str (max: number, what: string): string {
    const n = this.u16(`the length of ${what}`)
    if (n > max) throw this.fail(`${what} is ${n} bytes, more than ${max}`)
    const b = this.bytes(n, what)
    try {
      return utf8.decode(b)
    } catch (err) {
      throw this.fail(`${what} is not valid UTF-8`, err)
    }
  }
}

/** Options of {@link BoundedWriter}. */
export interface BoundedWriterOptions {
  /** Makes the format's typed error. */
  readonly fail: (message: string, cause?: unknown) => Error
  /** The most bytes the record may take; a write past it fails (before anything is allocated). */
  readonly maxBytes: number
  /** What the record is called in messages ("the record would exceed 4096 bytes"). */
  readonly whole: string
}

const utf8Encoder = new TextEncoder()

/**
 * Writing a little-endian binary record, the twin of {@link BoundedReader}: the buffer
 * grows as needed up to `maxBytes`, and every write past it fails through the caller's
 * `fail`, so each format keeps its typed error and its bound.
 */
export class BoundedWriter {
  private buf = new Uint8Array(256)
  private dv = new DataView(this.buf.buffer)
  /** Bytes written so far. */
  len = 0
  private readonly opts: BoundedWriterOptions

  constructor (opts: BoundedWriterOptions) {
    this.opts = opts
  }

  private room (n: number): void {
    if (this.len + n > this.opts.maxBytes) throw this.opts.fail(`${this.opts.whole} would exceed ${this.opts.maxBytes} bytes`)
    if (this.len + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + n) size *= 2
    const next = new Uint8Array(Math.min(size, this.opts.maxBytes))
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
    this.dv = new DataView(next.buffer)
  }

  u8 (v: number): void { this.room(1); this.buf[this.len++] = v }
  u16 (v: number): void { this.room(2); this.dv.setUint16(this.len, v, true); this.len += 2 }
  u32 (v: number): void { this.room(4); this.dv.setUint32(this.len, v, true); this.len += 4 }
  /** A whole number that fits a JavaScript safe integer, as a u64. */
  u64 (v: number): void { this.room(8); this.dv.setBigUint64(this.len, BigInt(v), true); this.len += 8 }
  bytes (b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.len); this.len += b.length }

  /** A UTF-8 string with a u16 byte length, at most `max` bytes (named `what` in the error). */
  str (s: string, max: number, what: string): void {
    const b = utf8Encoder.encode(s)
    if (b.length > max) throw this.opts.fail(`${what} is ${b.length} bytes, more than ${max}`)
    this.u16(b.length)
    this.bytes(b)
  }

  /** A copy of the bytes written. */
  done (): Uint8Array { return this.buf.slice(0, this.len) }
}
