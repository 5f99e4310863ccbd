/**
 * Reading a little-endian binary record whose every read is bounded: the job protocol's
 * messages and the mesh's announcements both decode with it. A read past the end, an
 * oversized string or invalid UTF-8 fails through the caller's `fail`, so each format keeps
 * its own typed error.
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
