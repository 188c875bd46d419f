#!/usr/bin/env node
// Runs the whole test suite with vitest and ends with one plain summary line ("N passed, N failed, N skipped"),
// so any CI reader can count tests; the exit code is vitest's.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

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
