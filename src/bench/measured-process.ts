/**
 * A benchmark's helper process whose memory is its own to measure (the relay of the load
 * benchmark and the fuzzer, the miner of the soak), over one small control channel:
 *
 * - the parent runs the script with Node and `--expose-gc`, passing one JSON argument;
 * - the child prints one JSON line `{"ready":{…}}` once it is up, answers each line `memory`
 *   on its stdin with `{"memory":{…}}` (after a full GC), and stops when its stdin ends.
 *
 * {@link spawnMeasuredProcess} is the parent's side, {@link serveMeasuredProcess} the child's.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'

/** A running helper process. */
export interface MeasuredProcess<Ready, Memory> {
  /** What the child said once it was up. */
  readonly ready: Ready
  readonly pid: number
  /** The exit code once it has exited (null while it runs). */
  readonly exitCode: number | null
  /** Its memory report (the child collects garbage first). */
  memory: () => Promise<Memory>
  /** End its stdin and wait for it to exit (SIGKILL after 10 s). */
  stop: () => Promise<void>
}

/** Options of {@link spawnMeasuredProcess}. */
export interface MeasuredProcessOptions {
  /** What the process is, in messages ("the relay process"). */
  readonly what: string
  /** How long it may take to say it is ready; then it is killed. */
  readonly startTimeoutMs: number
  /** The typed error to throw (each helper has its own). */
  readonly error: (message: string) => Error
}

/** Run `script` as a child process with `arg`; resolves once it is ready. @throws `opts.error(…)` when it exits or times out first. */
export async function spawnMeasuredProcess<Ready, Memory> (script: string, arg: unknown, opts: MeasuredProcessOptions): Promise<MeasuredProcess<Ready, Memory>> {
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', script, JSON.stringify(arg)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const waiting: Array<(m: Memory) => void> = []
  let exitCode: number | null = null
  const exited = new Promise<void>(resolve => {
    child.once('exit', (code, signal) => { exitCode = code ?? (signal === null ? -1 : 128); resolve() })
  })
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(opts.error(`${opts.what} did not start in time`)) }, opts.startTimeoutMs)
    lines.on('line', line => {
      let m: { ready?: Ready, memory?: Memory }
      try { m = JSON.parse(line) } catch { return }
      if (m.ready !== undefined) { clearTimeout(timer); resolve(m.ready) }
      if (m.memory !== undefined) waiting.shift()?.(m.memory)
    })
    void exited.then(() => { clearTimeout(timer); reject(opts.error(`${opts.what} exited with ${exitCode} before it was ready`)) })
  })
  return {
    ready,
    pid: child.pid ?? -1,
    get exitCode () { return exitCode },
    async memory () {
      if (exitCode !== null) throw opts.error(`${opts.what} has exited (${exitCode})`)
      const answer = new Promise<Memory>(resolve => { waiting.push(resolve) })
      child.stdin?.write('memory\n')
      return await Promise.race([answer, exited.then(() => { throw opts.error(`${opts.what} exited (${exitCode})`) })])
    },
    async stop () {
      if (exitCode !== null) return
      child.stdin?.end()
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
      await exited
      clearTimeout(timer)
    }
  }
}

/**
 * The child's side: say `ready`, answer `memory` requests with `report()` after a full GC
 * (Node must run with --expose-gc), and when stdin ends run `stop()` and exit.
 */
export function serveMeasuredProcess (ready: unknown, report: () => unknown, stop: () => Promise<void>): void {
  const gc = (globalThis as { gc?: () => void }).gc
  process.stdout.write(JSON.stringify({ ready }) + '\n')
  const input = createInterface({ input: process.stdin })
  input.on('line', line => {
    if (line.trim() !== 'memory') return
    void (async () => {
      gc?.()
      process.stdout.write(JSON.stringify({ memory: await report() }) + '\n')
    })()
  })
  input.on('close', () => { void stop().then(() => { process.exit(0) }) })
}
