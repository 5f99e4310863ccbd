/**
 * `npm run fetch-model [-- DIR]`: download stories260K (karpathy/tinyllamas, MIT) into
 * DIR (default ~/.cache/cerberus/models/stories260K), verifying SHA-256 sums.
 */
import { CACHE_MODEL_DIR } from '../src/node/model-files.ts'
import { fetchDefaultModel } from '../src/node/fetch-model.ts'

const dir = process.argv[2] ?? process.env.CERBERUS_MODEL_DIR ?? CACHE_MODEL_DIR
try {
  await fetchDefaultModel(dir, { log: line => { console.log(line) } })
  console.log(`done: the default model is in ${dir}`)
} catch (err) {
  console.error(`fetch-model: ${(err as Error).message}`)
  process.exitCode = 1
}
