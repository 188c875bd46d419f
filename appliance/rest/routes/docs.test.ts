/**
 * `/docs` on the real app: the page loads only what this server serves (every script and style sheet it names
 * answers 200 with a JS or CSS content type), nothing from elsewhere, and configures the explorer with this
 * server's `/openapi.json`, the validator badge off. The browser test (`docs.browser.test.ts`) renders it.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../../api/support/logger.js'
import { createMetricsRegistry } from '../../observe/index.js'
import { openStore, type Store } from '../../store/index.js'
import { createApp } from '../app.js'
import type { AppEnv } from '../env.js'

const ORIGIN = 'http://appliance.test'
let dir: string
let store: Store
let app: Hono<AppEnv>
let page: string
let pageHeaders: Headers

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'docs-test-'))
  store = openStore(join(dir, 'state.db'), { nodeName: 'dpu-a' })
  app = createApp({
    store,
    log: createLogger({ level: 'silent' }),
    registry: createMetricsRegistry({ defaultMetrics: false }),
    token: () => 'x'.repeat(40),
    node: { name: 'dpu-a', labels: {} },
    publicMetrics: true,
  })
  const res = await app.request(`${ORIGIN}/docs`)
  expect(res.status).toBe(200)
  page = await res.text()
  pageHeaders = res.headers
})

afterAll(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Every URL the page makes the browser fetch: script src, link href (style sheets and icons). */
function referencedUrls(html: string): { tag: string; url: URL }[] {
  const out: { tag: string; url: URL }[] = []
  for (const m of html.matchAll(/<(script|link)\b[^>]*?\b(src|href)="([^"]+)"/g)) out.push({ tag: m[1]!, url: new URL(m[3]!, `${ORIGIN}/docs`) })
  return out
}

describe('/docs', () => {
  it('is an HTML page without a token, with a CSP that keeps the browser on this origin', () => {
    expect(pageHeaders.get('content-type')).toMatch(/^text\/html/)
    const csp = pageHeaders.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("connect-src 'self'")
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/)
  })

  it('names only same-origin assets, and each answers 200 with its content type', async () => {
    const urls = referencedUrls(page)
    expect(urls.map((u) => u.url.pathname)).toEqual(['/docs/swagger-ui.css', '/docs/favicon-32x32.png', '/docs/swagger-ui-bundle.js', '/docs/init.js'])
    for (const { tag, url } of urls) {
      expect(url.origin, url.href).toBe(ORIGIN)
      const res = await app.request(url.href)
      const body = new Uint8Array(await res.arrayBuffer())
      expect(res.status, url.pathname).toBe(200)
      expect(body.length, url.pathname).toBeGreaterThan(0)
      const type = res.headers.get('content-type') ?? ''
      if (tag === 'script') expect(type, url.pathname).toMatch(/^text\/javascript/)
      else if (url.pathname.endsWith('.css')) expect(type, url.pathname).toMatch(/^text\/css/)
      else expect(type, url.pathname).toBe('image/png')
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    }
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//)
  })

  it('configures the explorer with this server’s /openapi.json and no validator badge', async () => {
    const spec = /data-spec-url="([^"]+)"/.exec(page)?.[1]
    expect(spec).toBeDefined()
    const specUrl = new URL(spec!, `${ORIGIN}/docs`)
    expect(specUrl.href).toBe(`${ORIGIN}/openapi.json`)
    expect((await app.request(specUrl.href)).status).toBe(200)
    const init = await (await app.request(`${ORIGIN}/docs/init.js`)).text()
    expect(init).toContain("getAttribute('data-spec-url')")
    expect(init).toContain('validatorUrl: null')
  })

  it('serves the package’s own Swagger UI bundle', async () => {
    const bundle = await (await app.request('/docs/swagger-ui-bundle.js')).text()
    expect(bundle).toContain('SwaggerUIBundle')
  })

  it('revalidates assets by ETag and answers 304 when unchanged', async () => {
    const first = await app.request('/docs/swagger-ui.css')
    await first.arrayBuffer()
    const etag = first.headers.get('etag')
    expect(etag).toMatch(/^"[\w-]+"$/)
    expect(first.headers.get('cache-control')).toBe('no-cache')
    const again = await app.request('/docs/swagger-ui.css', { headers: { 'if-none-match': etag! } })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
  })

  it('answers 404 problem+json for a file it does not serve, also for the package’s other files', async () => {
    for (const path of ['/docs/package.json', '/docs/swagger-initializer.js', '/docs/..%2Fpackage.json', '/docs/index.html']) {
      const res = await app.request(path)
      expect(res.status, path).toBe(404)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
    }
  })
})
