/**
 * The layering rules of eslint.config.js fire: one probe per forbidden import (linted as
 * if it were a file at that place in the tree, with the project's own configuration), and
 * the allowed imports of the same files as controls.
 */
import { ESLint } from 'eslint'
import { beforeAll, describe, expect, it } from 'vitest'
import { PROJECT_ROOT } from '../src/node/model-files.ts'

let eslint: ESLint

/** The rule ids that fire for `code` placed at `file`. */
async function rulesFor (file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: `${PROJECT_ROOT}/${file}` })
  return r.messages.map(m => m.ruleId ?? m.message)
}

beforeAll(() => { eslint = new ESLint({ cwd: PROJECT_ROOT }) })

const PROBES: Array<[string, string, string, string]> = [
  // [what, file, code, the rule that must fire]
  ['core imports net', 'src/core/model/probe.ts', "import '../../net/peer.ts'\n", 'import-x/no-restricted-paths'],
  ['core imports workers', 'src/core/engine/probe.ts', "import '../../workers/index.ts'\n", 'import-x/no-restricted-paths'],
  ['core imports app', 'src/core/engine/probe.ts', "import '../../app/index.ts'\n", 'import-x/no-restricted-paths'],
  ['core imports test fixtures', 'src/core/model/probe.ts', "import '../../test/fixtures.ts'\n", 'import-x/no-restricted-paths'],
  ['core imports node-seal outside core/he', 'src/core/model/probe.ts', "import SEAL from 'node-seal'\nexport const s = SEAL\n", 'no-restricted-imports'],
  ['core imports libp2p', 'src/core/engine/probe.ts', "import { createLibp2p } from 'libp2p'\nexport const c = createLibp2p\n", 'no-restricted-imports'],
  ['core uses the DOM', 'src/core/model/probe.ts', 'export const t = document.title\n', 'no-restricted-globals'],
  ['net imports workers', 'src/net/probe.ts', "import '../workers/index.ts'\n", 'import-x/no-restricted-paths'],
  ['net imports app', 'src/net/probe.ts', "import '../app/index.ts'\n", 'import-x/no-restricted-paths'],
  ['workers import net', 'src/workers/probe.ts', "import '../net/peer.ts'\n", 'import-x/no-restricted-paths'],
  ['app imports ui', 'src/app/probe.ts', "import '../ui/format.ts'\n", 'import-x/no-restricted-paths'],
  ['app imports the CLI', 'src/app/probe.ts', "import '../cli/args.ts'\n", 'import-x/no-restricted-paths'],
  ['app imports test fixtures', 'src/app/probe.ts', "import '../test/fixtures.ts'\n", 'import-x/no-restricted-paths'],
  ['ui imports net', 'src/ui/probe.ts', "import '../net/peer.ts'\n", 'import-x/no-restricted-paths'],
  ['ui imports workers', 'src/ui/probe.ts', "import '../workers/index.ts'\n", 'import-x/no-restricted-paths'],
  ['ui imports the HE library', 'src/ui/probe.ts', "import '../core/he/index.ts'\n", 'import-x/no-restricted-paths'],
  ['widget imports net', 'src/widget/probe.ts', "import '../net/peer.ts'\n", 'import-x/no-restricted-paths'],
  ['node helpers import the benchmarks', 'src/node/probe.ts', "import '../bench/he-bench.ts'\n", 'import-x/no-restricted-paths'],
  ['app imports the gateway', 'src/app/probe.ts', "import '../gateway/index.ts'\n", 'import-x/no-restricted-paths'],
  ['the gateway imports net', 'src/gateway/probe.ts', "import '../net/peer.ts'\n", 'import-x/no-restricted-paths'],
  ['the gateway imports the CLI', 'src/gateway/probe.ts', "import '../cli/args.ts'\n", 'import-x/no-restricted-paths'],
  ['the relay imports the app', 'signaling-server/probe.ts', "import '../src/app/index.ts'\n", 'import-x/no-restricted-paths'],
  ['an upper layer reaches inside a core folder', 'src/app/probe.ts', "import '../core/he/plan.ts'\n", 'import-x/no-internal-modules'],
  ['an upper layer reaches inside a net folder', 'src/app/probe.ts', "import '../net/discovery/topic.ts'\n", 'import-x/no-internal-modules'],
  ['a source file of more than 300 lines of code', 'src/app/probe.ts', Array.from({ length: 301 }, (_, i) => `export const v${i} = ${i}`).join('\n') + '\n', 'max-lines']
]

describe('the layering rules fire', () => {
  for (const [what, file, code, rule] of PROBES) {
    it(`${what} (${rule})`, async () => {
      expect(await rulesFor(file, code)).toContain(rule)
    })
  }

  it('and the allowed imports of those places pass', async () => {
    expect(await rulesFor('src/app/probe.ts', "import '../core/he/index.ts'\nimport '../net/discovery/index.ts'\nimport '../net/peer.ts'\nimport '../workers/index.ts'\nimport '../workers/he-port.web.ts'\n")).toEqual([])
    expect(await rulesFor('src/ui/probe.ts', "import '../app/index.ts'\nimport '../app/platform.web.ts'\nimport './format.ts'\n")).toEqual([])
    expect(await rulesFor('src/net/probe.ts', "import '../core/protocol/index.ts'\nimport './peer.ts'\n")).toEqual([])
    expect(await rulesFor('src/core/he/probe.ts', "import SEAL from 'node-seal'\nexport const s = SEAL\n")).toEqual([])
    expect(await rulesFor('src/app/probe.test.ts', "import '../test/fixtures.ts'\n")).toEqual([])
    expect(await rulesFor('src/gateway/probe.ts', "import '../app/index.ts'\nimport '../core/errors.ts'\n")).toEqual([])
    expect(await rulesFor('src/cli/probe.ts', "import '../gateway/index.ts'\n")).toEqual([])
  })
})
