import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { Cleanup, uniqueName } from '../../../bin/demo/netns.js'
import { ProcessRuntime } from './process-runtime.js'
import type { RuntimePodSpec } from './runtime.js'
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

describe('ProcessRuntime across an appliance kill -9', () => {
  const cleanup = new Cleanup()
  afterEach(() => cleanup.run())

  it('the container survives the appliance, and the next appliance adopts it with the output written meanwhile', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'process-runtime-kill-'))
    cleanup.defer(`state ${dir}`, () => rm(dir, { recursive: true, force: true }))
    const netnsName = uniqueName('rs')
    cleanup.netns(netnsName)
    const key = `rk-${process.pid.toString(36)}/svc`
    const spec: RuntimePodSpec = {
      key,
      specHash: 'h1',
      netnsName,
      labels: {},
      containers: [
        { name: 'main', image: '', command: ['sh', '-c', 'i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.2; done'], env: {}, mounts: [], privileged: false, capAdd: [], capDrop: [], limits: {} },
      ],
    }
    const after = new ProcessRuntime({ stateDir: dir, owner: 'kill-test' })
    cleanup.defer(`pod ${key}`, async () => {
      await after.removePod(key, 0)
      await after.close()
    })

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./testdata/runtime-child.ts', import.meta.url)), JSON.stringify({ stateDir: dir, owner: 'kill-test', spec, container: 'main' })],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    cleanup.process(child)
    const pid = await new Promise<number>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        const m = /started (\d+)/.exec(out)
        if (m) resolve(Number(m[1]))
      })
      child.once('exit', (code) => reject(new Error(`appliance child exited ${code}: ${out}`)))
    })
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    await sleep(1000) // the container keeps writing while no appliance reads its output
    expect(() => process.kill(pid, 0)).not.toThrow()

    const pod = (await after.list()).find((p) => p.key === key)
    expect(pod?.containers[0]).toMatchObject({ name: 'main', state: 'running', pid })
    // No line is lost across the gap: the output is consecutive from tick 0 on.
    let text = ''
    for (let i = 0; i < 100 && !/tick 12\n/.test(text); i++) {
      await sleep(200)
      text = ''
      for await (const chunk of after.logs(key, 'main', {})) text += chunk.toString()
    }
    const ticks = text
      .trim()
      .split('\n')
      .map((l) => Number(l.split(' ')[1]))
    expect(ticks.slice(0, 13)).toEqual([...Array(13).keys()])
  })
})
