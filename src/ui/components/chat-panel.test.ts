import { describe, expect, it } from 'vitest'
import { blockedReason } from './chat-panel.tsx'

describe('blockedReason', () => {
  it('lets the model in use answer while another loads, once a model and (unless local) a miner are there', () => {
    // a switch under way: the client is "starting", the old model is loaded
    expect(blockedReason('starting', 1, 'Loading the model', true, false, true)).toBeNull()
    expect(blockedReason('starting', 0, 'Loading the model', true, true, true)).toBeNull()
    expect(blockedReason('starting', 0, 'Loading the model', true, false, true)).toBe('Switching models…')
    expect(blockedReason('starting', 1, 'Loading the model', true, false, false)).toBe('Switching models…')
  })

  it('waits for the first start, and says why', () => {
    expect(blockedReason('starting', 0, 'Finding miners', false)).toBe('Getting ready: Finding miners…')
    expect(blockedReason('ready', 0, undefined, false)).toMatch(/^No miner is online right now/)
    expect(blockedReason('ready', 2, undefined, false)).toBeNull()
    expect(blockedReason('idle', 2, undefined, false, true, false)).toBe('Loading the model: starting…')
    expect(blockedReason('idle', 0, undefined, false, true, true)).toBeNull()
  })
})
