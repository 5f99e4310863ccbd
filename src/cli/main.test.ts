import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import golden from '../core/model/testdata/runc-golden.json' with { type: 'json' }
import { DEFAULT_MODEL_FILES, defaultModelDir, PROJECT_ROOT } from '../node/model-files.ts'
import { main } from './main.ts'

async function cli (...argv: string[]): Promise<{ code: number, out: string, err: string, bytes: Buffer }> {
  const out: Buffer[] = []
  let err = ''
  const code = await main(argv, { stdout: b => { out.push(Buffer.from(b)) }, stderr: t => { err += t } })
  const bytes = Buffer.concat(out)
  return { code, out: bytes.toString(), err, bytes }
}

const dir = defaultModelDir()
const MODEL = join(dir, DEFAULT_MODEL_FILES.checkpoint)
const TOK = join(dir, DEFAULT_MODEL_FILES.tokenizer)

describe('cerberus generate', () => {
  it('prints run.c\'s greedy text for the README command', async () => {
    const r = await cli('generate', '--model', MODEL, '--tokenizer', TOK, '--temperature', '0', '--steps', '256')
    expect(r.code).toBe(0)
    expect(r.bytes.toString('base64')).toBe(golden.generate[0].stdout)
    expect(r.err).toMatch(/^achieved tok\/s: \d+\.\d{6}\n$/)
  })

  it('prints run.c\'s seeded samples (negative seed, prompt, top-p)', async () => {
    const c = golden.generate[6]
    const r = await cli('generate', '--temperature', String(c.temperature), '--topp', String(c.topp), `--seed=${c.seed}`, '--steps', String(c.steps), '--prompt', c.prompt)
    expect(r.bytes.toString('base64')).toBe(c.stdout)
  })

  it('runs the w8a8 and f32-fast engines', async () => {
    for (const engine of ['w8a8', 'f32-fast']) {
      const r = await cli('generate', '--engine', engine, '--temperature', '0', '--steps', '12')
      expect(r.code).toBe(0)
      expect(r.out.startsWith('Once upon a time, there was')).toBe(true)
    }
  })

  const usage: Array<[string[], RegExp]> = [
    [['frobnicate'], /unknown command "frobnicate"/],
    [['generate', '--temperature', 'hot'], /--temperature must be a number, got "hot"/],
    [['generate', '--temperature=-1'], /--temperature must be in \[0, 1000000\], got -1/],
    [['generate', '--topp', '1.5'], /--topp must be in \[0, 1\], got 1.5/],
    [['generate', '--steps=-3'], /--steps must be a whole number in \[0, \d+\], got -3/],
    [['generate', '--steps', '2.5'], /--steps must be a whole number, got "2.5"/],
    [['generate', '--seed', 'abc'], /--seed must be a whole number, got "abc"/],
    [['generate', '--engine', 'gpu'], /--engine must be one of f32, f32-fast, w8a8, he, mesh, got "gpu"/],
    [['generate', '--bogus'], /Unknown option '--bogus'/],
    [['generate', 'stray'], /positional argument/],
    [['eval-quant', '--sequences', '0'], /--sequences must be a whole number in \[1, 10000\], got 0/]
  ]
  for (const [argv, message] of usage) {
    it(`exits 2 with a usage message for ${argv.join(' ')}`, async () => {
      const r = await cli(...argv)
      expect(r.code).toBe(2)
      expect(r.err).toMatch(message)
      expect(r.err).toMatch(/Run "cerberus help" for usage/)
      expect(r.out).toBe('')
    })
  }

  it('exits 1 naming a missing model file and what to do', async () => {
    const r = await cli('generate', '--model', '/nonexistent/model.bin')
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/cannot read the model \/nonexistent\/model.bin: no such file\. Pass --model/)
  })

  it('exits 1 for a file that is not a model, and for a mismatched tokenizer', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'cerberus-cli-'))
    const notModel = join(tmp, 'notes.txt')
    writeFileSync(notModel, 'these are not weights\n'.repeat(100))
    let r = await cli('generate', '--model', notModel)
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/^cerberus: not a llama2.c checkpoint: header field dim = \d+ is outside/)
    const shortTok = join(tmp, 'tok.bin')
    writeFileSync(shortTok, readFileSync(TOK).subarray(0, 3000))
    r = await cli('generate', '--tokenizer', shortTok)
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/tokenizer is truncated|ends after \d+ tokens/)
  })

  it('prints usage for help', async () => {
    const r = await cli('help')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/Usage: cerberus <command>/)
  })
})

describe('cerberus eval-quant', () => {
  it('prints the table and writes JSON', async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'cerberus-eval-')), 'q.json')
    const r = await cli('eval-quant', '--sequences', '1', '--steps', '32', '--json', json)
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/\| w8a8 \| \d+\.\d\d % \|/)
    const report = JSON.parse(readFileSync(json, 'utf8'))
    expect(report.variants[0].name).toBe('w8a8')
    expect(report.positions).toBe(32)
  })
})

describe('bin/cerberus.js', () => {
  it('runs on the machine\'s own Node (re-executing itself on Node ≥ 24 if needed)', () => {
    const sys = spawnSync('/usr/bin/env', ['-i', `PATH=/usr/local/bin:/usr/bin:/bin`, 'node', join(PROJECT_ROOT, 'bin', 'cerberus.js'), 'generate', '--temperature', '0', '--steps', '8', '--model', MODEL, '--tokenizer', TOK], { encoding: 'utf8' })
    expect(sys.stderr).not.toMatch(/too old/)
    expect(sys.status).toBe(0)
    expect(sys.stdout).toBe('Once upon a time, there was a\n')
  })

  it('works through npx', () => {
    const out = execFileSync('npx', ['--no-install', 'cerberus', 'generate', '--temperature', '0', '--steps', '5'], { cwd: PROJECT_ROOT, encoding: 'utf8' })
    expect(out).toBe('Once upon a time,\n')
  })
})

describe('cerberus bench he', () => {
  it('measures a shape in Node, exact, and writes the JSON the issue specifies', async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'cerberus-bench-')), 'he.json')
    const r = await cli('bench', 'he', '--shapes', '64x64,100x37', '--reps', '1', '--json', json)
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/\| 64×64 \| yes \|/)
    const report = JSON.parse(readFileSync(json, 'utf8'))
    expect(report.runtime).toBe('node')
    expect(report.shapes[1]).toMatchObject({ dOut: 100, dIn: 37, exact: true })
    for (const key of ['userMs', 'minerMs', 'totalMs', 'plainF32Ms', 'ratio', 'bytesUp', 'bytesDown', 'params']) expect(report.shapes[0]).toHaveProperty(key)
  })

  it('refuses bad bench arguments', async () => {
    expect((await cli('bench', 'tpu')).err).toMatch(/unknown benchmark "tpu"/)
    expect((await cli('bench', 'gpu', '--runtime', 'deno')).err).toMatch(/--runtime must be node or chromium/)
    expect((await cli('bench', 'he', '--shapes', '64by64')).err).toMatch(/--shapes takes OUTxIN pairs/)
    expect((await cli('bench', 'he', '--runtime', 'deno')).err).toMatch(/--runtime must be one of node, chromium/)
  })
})

describe('cerberus generate --engine he', () => {
  it('the issue\'s command: --temperature 0 --steps 200 --engine he prints exactly --engine w8a8', async () => {
    const args = ['--model', MODEL, '--tokenizer', TOK, '--temperature', '0', '--steps', '200']
    const he = await cli('generate', ...args, '--engine', 'he')
    const w8 = await cli('generate', ...args, '--engine', 'w8a8')
    expect(he.code).toBe(0)
    expect(he.out).toBe(w8.out)
    expect(he.out.length).toBeGreaterThan(400) // 200 tokens of story
  })

  it('prints exactly what --engine w8a8 prints (greedy, and seeded sampling from a prompt)', async () => {
    for (const args of [['--temperature', '0', '--steps', '40'], ['--temperature', '1', '--topp', '0.9', '--seed', '7', '--steps', '40', '--prompt', 'The cat']]) {
      const he = await cli('generate', '--engine', 'he', ...args)
      const w8 = await cli('generate', '--engine', 'w8a8', ...args)
      expect(he.code).toBe(0)
      expect(he.out).toBe(w8.out)
      expect(he.err).toMatch(/encrypted: \d+ linear results verified, 0 rejected/)
      expect(he.err).toMatch(/user \d+ ms \(encrypting \d+, decrypting \d+\), miner \d+ ms/)
    }
  })
})

describe('cerberus plan', () => {
  it('prints the squeezed plan as JSON', async () => {
    const r = await cli('plan', '--network', 'wan')
    expect(r.code).toBe(0)
    const plan = JSON.parse(r.out)
    expect(plan.groups[20]).toMatchObject({ group: 'cls', placement: 'local' })
    expect(plan.network.name).toBe('wan')
    const naive = JSON.parse((await cli('plan', '--naive')).out)
    expect(naive.steps).toMatchObject({ fusion: false, foldedNorms: false, placement: 'encrypt-all' })
  })
})

describe('cerberus miner + generate --engine mesh', () => {
  it('a headless miner process serves a user over libp2p; the text equals --engine w8a8', async () => {
    const { spawn } = await import('node:child_process')
    const miner = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'cerberus.js'), 'miner', '--port', '0', '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      const addr = await new Promise<string>((resolve, reject) => {
        let out = ''
        miner.stdout.on('data', (d: Buffer) => {
          out += d.toString()
          const m = /miner ready: (\S+)/.exec(out)
          if (m !== null) resolve(m[1])
        })
        miner.on('exit', code => { reject(new Error(`miner exited with ${code}: ${out}`)) })
      })
      const args = ['--temperature', '0', '--steps', '24']
      const mesh = await cli('generate', '--engine', 'mesh', '--miner', addr, ...args)
      expect(mesh.code).toBe(0)
      expect(mesh.out).toBe((await cli('generate', '--engine', 'w8a8', ...args)).out)
      expect(mesh.err).toMatch(/encrypted by \/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\/\w+: \d+ linear results verified, 0 rejected/)
    } finally {
      miner.kill('SIGTERM')
    }
  })

  it('refuses --engine mesh without a miner, or with a malformed address', async () => {
    expect((await cli('generate', '--engine', 'mesh')).err).toMatch(/--engine mesh needs --miner MULTIADDR/)
    expect((await cli('generate', '--engine', 'mesh', '--miner', 'not-an-address')).err).toMatch(/--miner must be a multiaddr/)
  })
})
