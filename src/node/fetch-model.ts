/**
 * Named model downloads (`npm run fetch-model -- NAME`): each file of a registry model
 * (model-registry.ts) is fetched into `<file>.part`, resumed with an HTTP Range request
 * after an interrupted transfer (within the run, and by the next run), checked against its
 * pinned size and SHA-256, and only then renamed into place — so the model directory never
 * holds a partial or wrong file. A file whose bytes are wrong is deleted, `.part` included
 * (its bad bytes cannot be told from good ones, so resuming it would only keep them).
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, rename, rm, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { CerberusError } from '../core/errors.ts'
import { findModel, MODEL_REGISTRY, type RegistryFile, type RegistryModel } from './model-registry.ts'

/** Interrupted transfers resumed within one run before giving up (the next run resumes again). */
const MAX_ATTEMPTS = 5

/** A download failed; the subclasses say how. */
export class FetchModelError extends CerberusError {
  constructor (message: string, cause?: unknown, code = 'FETCH_MODEL') {
    super(code, message, { cause })
  }
}

/** No model of that name in the registry. */
export class UnknownModelError extends FetchModelError {
  constructor (message: string) { super(message, undefined, 'FETCH_UNKNOWN_MODEL') }
}

/** The server answered with an error status (404, 500, …). */
export class DownloadHttpError extends FetchModelError {
  readonly status: number
  constructor (message: string, status: number) { super(message, undefined, 'FETCH_HTTP'); this.status = status }
}

/** The bytes are not the published file's (size or SHA-256); the file was deleted. */
export class ChecksumMismatchError extends FetchModelError {
  constructor (message: string) { super(message, undefined, 'FETCH_CHECKSUM') }
}

/** The file could not be written (no space, no permission, not a directory). */
export class DownloadDiskError extends FetchModelError {
  constructor (message: string, cause: unknown) { super(message, cause, 'FETCH_DISK') }
}

/** Progress of one file. */
export interface DownloadProgress {
  readonly file: string
  /** Bytes on disk so far (resumed bytes included). */
  readonly done: number
  /** The file's size (the pinned one). */
  readonly total: number
  /** Bytes that were already there when this attempt started. */
  readonly resumedFrom: number
}

/** Options of {@link fetchModel}. */
export interface FetchModelOptions {
  /** Destination directory; default {@link defaultDownloadDir}. */
  readonly dir?: string
  /** The registry to look the name up in (tests give their own). */
  readonly registry?: readonly RegistryModel[]
  /** Where each file is fetched from (tests point it at a loopback server). Default: its published URL. */
  readonly urlOf?: (f: RegistryFile) => string
  readonly signal?: AbortSignal
  readonly onProgress?: (p: DownloadProgress) => void
  readonly log?: (line: string) => void
}

/** Where `fetch-model NAME` puts a model by default: ~/.cache/cerberus/models/NAME. */
export function defaultDownloadDir (name: string): string {
  return join(homedir(), '.cache', 'cerberus', 'models', name)
}

const errnoOf = (err: unknown): string | undefined => (err as NodeJS.ErrnoException)?.code

function diskError (what: string, path: string, err: unknown): DownloadDiskError {
  const code = errnoOf(err)
  const reason = code === 'ENOSPC' ? 'the disk is full' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOTDIR' ? 'a parent is not a directory' : code === 'EROFS' ? 'the file system is read-only' : String((err as Error).message)
  return new DownloadDiskError(`cannot ${what} ${path}: ${reason}`, err)
}

async function sizeOf (path: string): Promise<number> {
  try {
    return (await stat(path)).size
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return -1
    throw diskError('read', path, err)
  }
}

async function sha256Of (path: string): Promise<string> {
  const hash = createHash('sha256')
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  } catch (err) {
    throw diskError('read', path, err)
  }
  return hash.digest('hex')
}

/** Stream one response body onto the end of `part`; returns the bytes now on disk. */
async function appendBody (res: Response, part: string, from: number, pin: RegistryFile, onProgress?: (p: DownloadProgress) => void): Promise<number> {
  let fh
  try {
    fh = await open(part, from === 0 ? 'w' : 'a')
  } catch (err) {
    throw diskError('write', part, err)
  }
  let done = from
  try {
    if (res.body === null) return done
    for await (const chunk of res.body) {
      if (done + chunk.byteLength > pin.bytes) throw new ChecksumMismatchError(`${pin.file} is not the published file: the server sends more than its ${pin.bytes} bytes`)
      try {
        await fh.write(chunk)
      } catch (err) {
        throw diskError('write', part, err)
      }
      done += chunk.byteLength
      onProgress?.({ file: pin.file, done, total: pin.bytes, resumedFrom: from })
    }
    return done
  } finally {
    await fh.close()
  }
}

/**
 * Download one pinned file to `dest`, resuming `dest.part` if it exists.
 * @returns 'present' when `dest` already held the pinned bytes, else 'downloaded'.
 * @throws {DownloadHttpError} for an error status; {@link ChecksumMismatchError} for wrong
 *   bytes (the partial file is deleted); {@link DownloadDiskError} when writing fails;
 *   {@link FetchModelError} when the transfer keeps breaking (the partial file is kept, to resume).
 */
export async function downloadFile (url: string, dest: string, pin: RegistryFile, opts: Pick<FetchModelOptions, 'signal' | 'onProgress' | 'log'> = {}): Promise<'present' | 'downloaded'> {
  if (await sizeOf(dest) === pin.bytes && await sha256Of(dest) === pin.sha256) return 'present'
  const part = `${dest}.part`
  const fail = async (message: string): Promise<never> => {
    await rm(part, { force: true })
    throw new ChecksumMismatchError(message)
  }
  for (let attempt = 1; ; attempt++) {
    let have = Math.max(0, await sizeOf(part))
    if (have > pin.bytes) { await rm(part, { force: true }); have = 0 }
    if (have < pin.bytes) {
      let res: Response
      try {
        res = await fetch(url, { signal: opts.signal, redirect: 'follow', headers: have > 0 ? { range: `bytes=${have}-` } : {} })
      } catch (err) {
        if (opts.signal?.aborted === true) throw err
        if (attempt >= MAX_ATTEMPTS) throw new FetchModelError(`cannot download ${url}: ${(err as Error).message}`, err)
        continue
      }
      if (res.status === 416 && have > 0) {
        // Nothing left to send after what we have: the part is complete or stale; start over.
        await res.body?.cancel()
        await rm(part, { force: true })
        continue
      }
      if (!res.ok) {
        await res.body?.cancel()
        throw new DownloadHttpError(`cannot download ${url}: HTTP ${res.status}${res.status === 404 ? ' (not found: the file moved, or the name is wrong)' : ''}`, res.status)
      }
      // A server that ignores Range answers 200 with the whole file: start over.
      const from = res.status === 206 ? have : 0
      const offered = res.status === 206 ? Number(/\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1] ?? pin.bytes) : Number(res.headers.get('content-length') ?? pin.bytes)
      if (offered !== pin.bytes) {
        await res.body?.cancel()
        await fail(`${url} is not the published ${pin.file}: the server offers ${offered} bytes, the pinned file has ${pin.bytes}`)
      }
      if (from > 0) opts.log?.(`  resuming ${pin.file} at byte ${from}`)
      try {
        have = await appendBody(res, part, from, pin, opts.onProgress)
      } catch (err) {
        if (err instanceof FetchModelError || opts.signal?.aborted === true) throw err
        // The connection broke mid-file: what arrived is kept, the next attempt resumes.
        have = Math.max(0, await sizeOf(part))
        if (attempt >= MAX_ATTEMPTS) throw new FetchModelError(`the download of ${url} broke off ${attempt} times (at byte ${have} of ${pin.bytes}); run the command again to resume`, err)
        opts.log?.(`  the connection broke at byte ${have} of ${pin.bytes}; resuming`)
        continue
      }
      if (have < pin.bytes) {
        if (attempt >= MAX_ATTEMPTS) throw new FetchModelError(`the download of ${url} stopped at byte ${have} of ${pin.bytes} ${attempt} times; run the command again to resume`)
        continue
      }
    }
    const got = await sha256Of(part)
    if (got !== pin.sha256) await fail(`${url} is not the published ${pin.file}: sha256 ${got}, expected ${pin.sha256} (the download was deleted)`)
    try {
      await rename(part, dest)
    } catch (err) {
      throw diskError('move into place', dest, err)
    }
    return 'downloaded'
  }
}

/**
 * Download every file of the registry model `name` into its directory, verified.
 * @throws {UnknownModelError} for a name the registry does not have (the message lists them),
 *   and the errors of {@link downloadFile}.
 */
export async function fetchModel (name: string, opts: FetchModelOptions = {}): Promise<{ model: RegistryModel, dir: string, paths: string[] }> {
  const registry = opts.registry ?? MODEL_REGISTRY
  const model = findModel(name, registry)
  if (model === undefined) throw new UnknownModelError(`no model is called "${name}"; known: ${registry.map(m => m.name).join(', ')} (npm run fetch-model -- --list)`)
  const dir = opts.dir ?? defaultDownloadDir(model.name)
  try {
    await mkdir(dir, { recursive: true })
  } catch (err) {
    throw diskError('create', dir, err)
  }
  const paths: string[] = []
  for (const f of model.files) {
    const url = opts.urlOf?.(f) ?? f.url
    const dest = join(dir, f.file)
    opts.log?.(`${f.file}: ${url}`)
    const outcome = await downloadFile(url, dest, f, opts)
    opts.log?.(`  ${outcome === 'present' ? 'already there' : 'ok'}, ${f.bytes} bytes, sha256 verified → ${dest}`)
    paths.push(dest)
  }
  return { model, dir, paths }
}

/** Download stories260K into `dir` (the default model; kept for existing callers). */
export async function fetchDefaultModel (dir: string, opts: Omit<FetchModelOptions, 'dir'> = {}): Promise<void> {
  await fetchModel('stories260K', { ...opts, dir })
}

/** A progress bar for a terminal stream (redrawn in place), or a line per 10 % when it is not a terminal. */
export function progressBar (out: { write: (s: string) => unknown, isTTY?: boolean }): (p: DownloadProgress) => void {
  const WIDTH = 30
  let lastTenth = -1
  let started = 0
  return p => {
    const now = Date.now()
    if (p.done === p.resumedFrom || started === 0) started = now
    const frac = p.total > 0 ? p.done / p.total : 0
    const mb = (n: number): string => (n / 1e6).toFixed(1)
    const rate = now > started ? ((p.done - p.resumedFrom) / 1e6) / ((now - started) / 1000) : 0
    const line = `${p.file} [${'#'.repeat(Math.round(frac * WIDTH)).padEnd(WIDTH, '.')}] ${(100 * frac).toFixed(0).padStart(3)} %  ${mb(p.done)}/${mb(p.total)} MB  ${rate.toFixed(1)} MB/s`
    if (out.isTTY === true) {
      out.write(`\r${line}${p.done >= p.total ? '\n' : ''}`)
    } else {
      const tenth = Math.floor(frac * 10)
      if (tenth !== lastTenth) { lastTenth = tenth; out.write(`${line}\n`) }
    }
  }
}
