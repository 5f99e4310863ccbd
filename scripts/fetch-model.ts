/**
 * `npm run fetch-model -- [NAME] [--dir DIR] [--list]`: download a model the registry
 * knows (src/node/model-registry.ts; default stories260K) into DIR (default
 * ~/.cache/cerberus/models/NAME; for stories260K also $CERBERUS_MODEL_DIR), resuming an
 * interrupted download and checking every file's SHA-256. Progress goes to stderr.
 */
import { parseArgs } from 'node:util'
import { CACHE_MODEL_DIR } from '../src/node/model-files.ts'
import { fetchModel, progressBar } from '../src/node/fetch-model.ts'
import { MODEL_REGISTRY } from '../src/node/model-registry.ts'

const DEFAULT_NAME = 'stories260K'

try {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { dir: { type: 'string' }, list: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } })
  if (values.help === true) {
    console.log('usage: npm run fetch-model -- [NAME] [--dir DIR] [--list]')
  } else if (values.list === true) {
    for (const m of MODEL_REGISTRY) {
      const mb = m.files.reduce((n, f) => n + f.bytes, 0) / 1e6
      console.log(`${m.name.padEnd(24)} ${m.format.padEnd(8)} ${mb.toFixed(1).padStart(7)} MB  ${m.description}\n${''.padEnd(24)} licence: ${m.licence}${m.files.every(f => f.verifiedHere) ? '' : '\n' + ''.padEnd(24) + ' SHA-256 pins taken from public projects, not checked here against the real files (no internet); the download checks them'}`)
    }
  } else {
    if (positionals.length > 1) throw new Error(`one model name at a time (got ${positionals.join(', ')})`)
    const name = positionals[0] ?? DEFAULT_NAME
    const envDir = process.env.CERBERUS_MODEL_DIR
    const dir = values.dir ?? (name.toLowerCase() === DEFAULT_NAME.toLowerCase() ? (envDir !== undefined && envDir !== '' ? envDir : CACHE_MODEL_DIR) : undefined)
    const { model, dir: where } = await fetchModel(name, { ...(dir === undefined ? {} : { dir }), onProgress: progressBar(process.stderr), log: line => { console.log(line) } })
    console.log(`done: ${model.name} (${model.licence}) is in ${where}`)
  }
} catch (err) {
  console.error(`fetch-model: ${(err as Error).message}`)
  process.exitCode = 1
}
