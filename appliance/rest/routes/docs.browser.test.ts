/**
 * `/docs` in a real browser (Debian's Chromium through playwright-core) against a real `dpuctl appliance run`
 * process: Swagger UI renders the operations of `/openapi.json`, fetches nothing from any other origin, breaks
 * no Content-Security-Policy rule, and a call made through "Authorize" + "Try it out" carries the bearer token
 * and succeeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApplianceProcess, type ApplianceProcess } from '../../../test/support/appliance-process.js'
import { launchChromium, type Chromium } from '../../../test/support/chromium.js'

let appliance: ApplianceProcess
let browser: Chromium

beforeAll(async () => {
  // The explorer reads /openapi.json before the user can enter a token: a public explorer needs --public-metrics.
  appliance = await startApplianceProcess({ nodeName: 'docs-browser', extraArgs: ['--public-metrics'] })
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await appliance?.dispose()
})

describe('/docs in Chromium', () => {
  it('renders the API, stays on this origin, and calls /apis with the token entered in Authorize', async () => {
    const page = await browser.context.newPage()
    const requested: string[] = []
    const problems: string[] = []
    const apisAuth: (string | undefined)[] = []
    page.on('request', (r) => {
      requested.push(r.url())
      if (new URL(r.url()).pathname === '/apis') apisAuth.push(r.headers().authorization)
    })
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text())
    })
    page.on('pageerror', (e) => problems.push(e.message))

    await page.goto(`${appliance.url}/docs`)
    // Swagger UI gives each operation the id operations-<tag>-<operationId>.
    await page.locator('#operations-ServiceChain-readServiceChain').waitFor({ timeout: 30_000 })
    expect(await page.locator('#operations-tag-ServiceChain').count()).toBe(1)
    expect(await page.locator('.opblock').count()).toBeGreaterThan(50)
    expect(await page.locator('.info .title').innerText()).toContain('dpu-appliance')
    // Swagger UI's warnings and errors about the document itself (an unsupported jsonSchemaDialect, a bad $ref).
    expect(await page.locator('.swagger-ui .error-wrapper, .swagger-ui .errors-wrapper').allInnerTexts()).toEqual([])

    await page.locator('.auth-wrapper .authorize').click()
    await page.locator('.modal-ux input[type=text], .modal-ux input[type=password]').first().fill(appliance.token)
    await page.locator('.modal-ux .auth-btn-wrapper .authorize').click()
    await page.locator('.modal-ux .btn-done, .modal-ux .close-modal').first().click()

    const discover = page.locator('#operations-appliance-discoverKinds')
    await discover.locator('.opblock-summary').click()
    await discover.locator('.try-out__btn').click()
    await discover.locator('.execute').click()
    const status = discover.locator('.live-responses-table .response .response-col_status').first()
    await status.waitFor({ timeout: 15_000 })
    expect((await status.innerText()).trim()).toBe('200')
    expect(apisAuth).toEqual([`Bearer ${appliance.token}`])

    const origin = new URL(appliance.url).origin
    expect(requested.filter((u) => !u.startsWith('data:') && new URL(u).origin !== origin)).toEqual([])
    expect(requested.map((u) => new URL(u).pathname)).toEqual(expect.arrayContaining(['/docs', '/docs/swagger-ui-bundle.js', '/docs/init.js', '/openapi.json']))
    expect(problems).toEqual([])
  })
})
