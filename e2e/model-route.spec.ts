/**
 * The dev server serves exactly the two default model files, and the page is
 * cross-origin isolated.
 */
import { request as httpRequest } from 'node:http'
import { expect, test } from '@playwright/test'

/**
 * Send `path` byte for byte (URL clients would normalize `..` and `%2e%2e` away before
 * the server ever saw them).
 */
function rawRequest (baseURL: string, method: string, path: string): Promise<{ status: number, body: string }> {
  const { hostname, port } = new URL(baseURL)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
    })
    req.on('error', reject)
    req.end()
  })
}

test('the two model files are served, same-origin only', async ({ request }) => {
  for (const name of ['stories260K.bin', 'tok512.bin']) {
    const res = await request.get(`/models/default/${name}`)
    expect(res.status()).toBe(200)
    expect(res.headers()['cross-origin-resource-policy']).toBe('same-origin')
    expect(res.headers()['content-type']).toBe('application/octet-stream')
    expect((await res.body()).byteLength).toBeGreaterThan(0)
  }
})

test('nothing else under /models/ is served', async ({ baseURL }) => {
  const paths = [
    '/models/default/', '/models/default/SHA256SUMS', '/models/default/README.md', '/models/other/tok512.bin',
    '/models/default/stories260K.bin%00', '/models/default/../../package.json', '/models/default/%2e%2e/%2e%2e/package.json', '/models/default/..%2fSHA256SUMS'
  ]
  for (const path of paths) {
    const res = await rawRequest(baseURL ?? '', 'GET', path)
    expect(res.status, path).toBe(404)
    expect(res.body, path).toContain('only /models/default/stories260K.bin and /models/default/tok512.bin are served')
  }
  expect((await rawRequest(baseURL ?? '', 'POST', '/models/default/tok512.bin')).status).toBe(405)
})

test('the page is cross-origin isolated and honest about what it does', async ({ page }) => {
  const res = await page.goto('/')
  expect(res?.headers()['cross-origin-opener-policy']).toBe('same-origin')
  expect(res?.headers()['cross-origin-embedder-policy']).toBe('require-corp')
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true)
  await expect(page.getByRole('heading', { level: 1, name: 'Cerberus' })).toBeVisible()
  // what is protected and what is not, and no claim of GPU work before a self-test passed
  await expect(page.getByRole('heading', { name: 'What is protected' })).toBeVisible()
  await expect(page.getByRole('heading', { name: 'What is not hidden' })).toBeVisible()
  await expect(page.getByTestId('donor-device')).toContainText(/^Not computing yet\. WebGPU (not )?detected: .*CPU \(WebAssembly\)\.$/)
})
