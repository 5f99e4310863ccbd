/**
 * What the e2e specs need from the command line: start `cerberus` processes (a relay, a
 * miner) and wait for their ready line, and the w8a8 engine's text to compare with.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from '@playwright/test'
import { encode, parseCheckpoint, parseTokenizer } from '../../src/core/model/index.ts'
import { DEFAULT_MODEL_FILES, defaultModelDir } from '../../src/node/model-files.ts'

const CLI = 'bin/cerberus.js'

/** Processes started by {@link startCli}; kill them after the test. */
export const cliProcesses: ChildProcess[] = []

/** Start `cerberus ARGS…` and wait until its output matches `ready`. */
export async function startCli (args: string[], ready: RegExp): Promise<{ proc: ChildProcess, match: RegExpExecArray }> {
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  cliProcesses.push(proc)
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    let out = ''
    const look = (d: Buffer): void => {
      out += d.toString()
      const m = ready.exec(out)
      if (m !== null) resolve(m)
    }
    proc.stdout?.on('data', look)
    proc.stderr?.on('data', (d: Buffer) => { out += d.toString() })
    proc.on('exit', code => { reject(new Error(`cerberus ${args[0]} exited (${code}): ${out}`)) })
  })
  return { proc, match }
}

/** Kill every process {@link startCli} started. */
export function killCliProcesses (signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const p of cliProcesses.splice(0)) p.kill(signal)
}

/** What `cerberus generate --engine w8a8 --temperature 0` prints (the prompt echoed first, as run.c). */
export function w8a8Text (steps: number, prompt = ''): string {
  return execFileSync(process.execPath, [CLI, 'generate', '--engine', 'w8a8', '--temperature', '0', '--steps', String(steps), '--prompt', prompt], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).replace(/\n$/, '')
}

/**
 * What `cerberus generate --engine w8a8` continues `prompt` with, for `newTokens` new tokens:
 * the text the app shows as the answer (the CLI echoes the prompt, as run.c does).
 */
export function w8a8Continuation (prompt: string, newTokens: number): string {
  const dir = defaultModelDir()
  const ckpt = parseCheckpoint(new Uint8Array(readFileSync(join(dir, DEFAULT_MODEL_FILES.checkpoint))))
  const tok = parseTokenizer(new Uint8Array(readFileSync(join(dir, DEFAULT_MODEL_FILES.tokenizer))), ckpt.config.vocabSize)
  // run.c's --steps counts positions, the prompt's tokens (BOS included) among them
  const out = w8a8Text(encode(tok, prompt).length - 1 + newTokens, prompt)
  expect(out.startsWith(prompt)).toBe(true)
  return out.slice(prompt.length)
}
