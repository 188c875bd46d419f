/**
 * Debian's Chromium (`apt-get install chromium`; `.ci/setup` installs it) driven by playwright-core, for tests
 * that need a real browser. Never a downloaded browser: playwright-core ships none, and this points it at the
 * system one. Each launch gets a fresh profile directory, removed by `close()`, and no background traffic.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'

export const CHROMIUM_PATH = '/usr/bin/chromium'

/** No sandbox: tests run as root in a container, where Chromium's sandbox cannot start. */
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

export interface Chromium {
  context: BrowserContext
  close(): Promise<void>
}

export async function launchChromium(): Promise<Chromium> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: run .ci/setup as root (apt-get install chromium)`)
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'))
  try {
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: ARGS })
    return {
      context,
      async close() {
        await context.close()
        rmSync(profile, { recursive: true, force: true })
      },
    }
  } catch (err) {
    rmSync(profile, { recursive: true, force: true })
    throw err
  }
}
