import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { ProcessRuntime } from './process-runtime.js'
import { describeRuntimeCases } from './testdata/runtime-cases.js'

let stateDir: string | undefined
afterAll(async () => {
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true })
})

describeRuntimeCases('process', async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'process-runtime-'))
  const dir = stateDir
  // A short liveness interval only to keep the adoption case quick; the default (1 s) would pass as well.
  return { image: 'ignored', create: () => new ProcessRuntime({ stateDir: dir, owner: 'test-appliance', livenessIntervalMs: 200 }) }
})
