/**
 * Byte helpers that behave the same on every runtime.
 *
 * Node's `Buffer` is a Uint8Array whose `slice()` returns a *view*, not a copy; bytes from
 * Node transports are Buffers. Code that takes `.buffer` of a slice would then see the
 * whole pool. `copyOf` always returns a fresh Uint8Array over its own ArrayBuffer.
 */

/** A fresh copy of bytes[start, end), backed by its own ArrayBuffer starting at offset 0. */
export function copyOf (bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes.subarray(start, end))
}
