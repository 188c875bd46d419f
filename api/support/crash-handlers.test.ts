/**
 * The daemons' crash handlers in a real child process: an unhandled rejection or uncaught exception logs one
 * JSON line and exits non-zero, instead of the process running on.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { CRASH_EXIT_CODE } from './crash-handlers.js'

const HERE = fileURLToPath(new URL('.', import.meta.url))

function runChild(crash: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `
    const { createLogger } = await import(${JSON.stringify(join(HERE, 'logger.ts'))})
    const { installCrashHandlers } = await import(${JSON.stringify(join(HERE, 'crash-handlers.ts'))})
    installCrashHandlers(createLogger({ level: 'info' }).child({ component: 'crash-test' }))
    ${crash}
    // Without the handlers the process would keep running on this timer (and an exception would not log JSON).
    setTimeout(() => { process.stdout.write('still running\\n'); process.exit(0) }, 3000)
  `
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('installCrashHandlers', () => {
  it.each([
    ['unhandledRejection', `void Promise.reject(new Error('boom in a promise'))`, 'boom in a promise'],
    ['uncaughtException', `setImmediate(() => { throw new Error('boom in a callback') })`, 'boom in a callback'],
  ])(
    '%s: one JSON log line, then a non-zero exit',
    async (kind, crash, message) => {
      const { code, stdout, stderr } = await runChild(crash)
      expect(stdout).toBe('')
      expect(code).toBe(CRASH_EXIT_CODE)
      const lines = stderr.trim().split('\n')
      expect(lines).toHaveLength(1)
      const line = JSON.parse(lines[0]!) as Record<string, unknown>
      expect(line).toMatchObject({ kind, component: 'crash-test', err: expect.objectContaining({ message }) })
      expect(String(line.msg)).toContain(kind)
    },
    20_000,
  )
})
