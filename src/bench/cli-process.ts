/**
 * `cerberus …` commands as child processes (a relay, miners), for the benchmarks that
 * need real processes — to SIGKILL them, to measure them apart from the user: start one,
 * wait for its ready line, kill it, know when it has exited.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { CerberusError } from '../core/errors.ts'
import { PROJECT_ROOT } from '../node/model-files.ts'

/** A command did not print its ready line in time, or exited first. */
export class CliProcessError extends CerberusError {
  constructor (message: string) {
    super('CLI_PROCESS', message)
  }
}

/** Output kept per process for error messages: the end of what it printed. */
const OUTPUT_KEPT = 4096

/** A running `cerberus` command. */
export interface CliProcess {
  readonly pid: number
  /** The ready line's match. */
  readonly match: RegExpExecArray
  /** Whether it has exited. */
  readonly exited: boolean
  /** Resolves when it has exited. */
  readonly done: Promise<void>
  /** The last {@link OUTPUT_KEPT} characters of its stdout and stderr. */
  readonly output: () => string
  /** Send `signal` (default SIGTERM) and wait for the exit (SIGKILL after `graceMs`, default 5 s). */
  stop: (signal?: NodeJS.Signals, graceMs?: number) => Promise<void>
}

/** Start `cerberus ARGS…` and wait until its stdout matches `ready` (default timeout 60 s). @throws {CliProcessError} */
export async function startCliProcess (args: readonly string[], ready: RegExp, opts: { timeoutMs?: number } = {}): Promise<CliProcess> {
  const child: ChildProcess = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'cerberus.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let stdout = ''
  let exited = false
  const keep = (d: Buffer): void => { out = (out + d.toString()).slice(-OUTPUT_KEPT) }
  child.stderr?.on('data', keep)
  const done = new Promise<void>(resolve => { child.once('exit', () => { exited = true; resolve() }) })
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new CliProcessError(`cerberus ${args[0]} printed no ready line in ${opts.timeoutMs ?? 60_000} ms: ${out}`))
    }, opts.timeoutMs ?? 60_000)
    child.stdout?.on('data', (d: Buffer) => {
      keep(d)
      if (stdout.length < OUTPUT_KEPT) stdout += d.toString()
      const m = ready.exec(stdout)
      if (m !== null) { clearTimeout(timer); resolve(m) }
    })
    void done.then(() => { clearTimeout(timer); reject(new CliProcessError(`cerberus ${args[0]} exited (${child.exitCode ?? child.signalCode}) before it was ready: ${out}`)) })
  })
  return {
    pid: child.pid ?? -1,
    match,
    get exited () { return exited },
    done,
    output: () => out,
    async stop (signal = 'SIGTERM', graceMs = 5000) {
      if (exited) return
      child.kill(signal)
      const timer = setTimeout(() => { child.kill('SIGKILL') }, graceMs)
      await done
      clearTimeout(timer)
    }
  }
}
