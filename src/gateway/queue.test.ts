import { describe, expect, it } from 'vitest'
import { QueueFullError } from './errors.ts'
import { createFairQueue } from './queue.ts'

describe('the fair queue', () => {
  it('serves one at a time, round-robin over clients, first come first served within one', async () => {
    const q = createFairQueue(8)
    const order: string[] = []
    const first = await q.acquire('a')
    const waits = [['a', 'a1'], ['a', 'a2'], ['b', 'b1'], ['c', 'c1'], ['b', 'b2']].map(async ([client, name]) => {
      const release = await q.acquire(client)
      order.push(name)
      release()
    })
    expect(q.waiting).toBe(5)
    first()
    await Promise.all(waits)
    // a had its turn (the first), so after a1 come b and c before a's second
    expect(order).toEqual(['a1', 'b1', 'c1', 'a2', 'b2'])
    expect(q.busy).toBe(false)
  })

  it('refuses at once beyond its bound (429), and a release frees a place', async () => {
    const q = createFairQueue(1)
    const release = await q.acquire('a')
    const waiting = q.acquire('b')
    await expect(q.acquire('c')).rejects.toBeInstanceOf(QueueFullError)
    await expect(q.acquire('c')).rejects.toMatchObject({ status: 429, code: 'queue_full' })
    release()
    const second = await waiting
    expect(q.waiting).toBe(0)
    second()
  })

  it('a request aborted while waiting gives up its place; releasing twice frees once', async () => {
    const q = createFairQueue(4)
    const release = await q.acquire('a')
    const controller = new AbortController()
    const gone = q.acquire('b', controller.signal)
    const kept = q.acquire('c')
    controller.abort(new Error('left'))
    await expect(gone).rejects.toThrow('left')
    expect(q.waiting).toBe(1)
    release()
    release()
    const next = await kept
    expect(q.busy).toBe(true)
    next()
    expect(q.busy).toBe(false)
  })
})
