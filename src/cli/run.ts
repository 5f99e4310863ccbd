/** Process entry of the CLI (imported by bin/cerberus.js on Node ≥ 24). */
import { main } from './main.ts'

process.exitCode = await main(process.argv.slice(2), {
  stdout: (b) => { process.stdout.write(b) },
  stderr: (t) => { process.stderr.write(t) }
})
