/**
 * Download the default model (stories260K from the Hugging Face repository
 * karpathy/tinyllamas, MIT) and check it byte for byte against known SHA-256 sums.
 */
import { createHash } from 'node:crypto'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CerberusError } from '../core/errors.ts'
import { DEFAULT_MODEL_FILES } from './model-files.ts'

/** Where the published files live. */
export const DEFAULT_MODEL_BASE_URL = 'https://huggingface.co/karpathy/tinyllamas/resolve/main/stories260K'

/** SHA-256 of the published files (also in shared/models/stories260K/SHA256SUMS). */
export const DEFAULT_MODEL_SHA256: Readonly<Record<string, string>> = {
  [DEFAULT_MODEL_FILES.checkpoint]: 'b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696',
  [DEFAULT_MODEL_FILES.tokenizer]: '037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312'
}

/** Largest file we accept from the network (the checkpoint is 1 MiB). */
const MAX_DOWNLOAD_BYTES = 64 << 20

/** A download failed or its bytes are not the published ones. */
export class FetchModelError extends CerberusError {
  constructor (message: string, cause?: unknown) {
    super('FETCH_MODEL', message, { cause })
  }
}

/**
 * Fetch both files into `dir` (created if needed). Each file is verified before it is
 * moved into place, so `dir` never holds a partial or wrong file.
 * @throws {FetchModelError} on an HTTP error, an oversized body or a checksum mismatch.
 */
export async function fetchDefaultModel (dir: string, opts: { baseUrl?: string, signal?: AbortSignal, log?: (line: string) => void } = {}): Promise<void> {
  const base = opts.baseUrl ?? DEFAULT_MODEL_BASE_URL
  await mkdir(dir, { recursive: true })
  for (const [file, sha] of Object.entries(DEFAULT_MODEL_SHA256)) {
    const url = `${base}/${file}`
    opts.log?.(`downloading ${url}`)
    let res: Response
    try {
      res = await fetch(url, { signal: opts.signal, redirect: 'follow' })
    } catch (err) {
      throw new FetchModelError(`cannot download ${url}: ${(err as Error).message}`, err)
    }
    if (!res.ok) throw new FetchModelError(`cannot download ${url}: HTTP ${res.status}`)
    const declared = Number(res.headers.get('content-length') ?? '0')
    if (declared > MAX_DOWNLOAD_BYTES) throw new FetchModelError(`refusing ${url}: ${declared} bytes is more than ${MAX_DOWNLOAD_BYTES}`)
    const body = new Uint8Array(await res.arrayBuffer())
    if (body.byteLength > MAX_DOWNLOAD_BYTES) throw new FetchModelError(`refusing ${url}: ${body.byteLength} bytes is more than ${MAX_DOWNLOAD_BYTES}`)
    const got = createHash('sha256').update(body).digest('hex')
    if (got !== sha) throw new FetchModelError(`${url} is not the published ${file}: sha256 ${got}, expected ${sha}`)
    const tmp = join(dir, `.${file}.partial`)
    await writeFile(tmp, body)
    await rename(tmp, join(dir, file))
    opts.log?.(`  ok, ${body.byteLength} bytes, sha256 verified → ${join(dir, file)}`)
  }
}
