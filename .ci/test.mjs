#!/usr/bin/env node
// First the static step (`npm run check`: typecheck, ESLint, Prettier --check, knip), so style, types and dead
// code fail fast and are never reviewed by hand; then the whole test suite with vitest, ending with one plain
// summary line ("N passed, N failed, N skipped") so any CI reader can count tests. The exit code is the check's
// when it fails, otherwise vitest's.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const check = spawnSync('npm', ['run', '--silent', 'check'], { stdio: 'inherit' })
if (check.status !== 0) {
  console.log('static check failed (npm run check): tests not run')
  process.exit(check.status ?? 1)
}

const dir = mkdtempSync(join(tmpdir(), 'vitest-report-'))
const report = join(dir, 'report.json')
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)]
const child = spawn('npx', args, { stdio: 'inherit' })
child.on('exit', (code, signal) => {
  let summary = 'tests: no report'
  try {
    const r = JSON.parse(readFileSync(report, 'utf8'))
    summary = `tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`
  } catch {
    /* vitest crashed before writing its report */
  }
  rmSync(dir, { recursive: true, force: true })
  console.log(summary)
  process.exit(code ?? (signal ? 1 : 0))
})
