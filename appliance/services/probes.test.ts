/**
 * tcpSocket and httpGet probes run inside the pod's network namespace: a real namespace with busybox's httpd
 * listening on its loopback, which nothing outside that namespace can reach.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deleteNetns, runCommand } from '../runtime/ports/index.js'
import type { ServiceRuntime } from '../runtime/services/runtime.js'
import { runProbe } from './probes.js'
import type { ContainerView } from './service-view.js'

const netns = `probe-t${process.pid}`
const container = { name: 'web', image: 'x', ports: [{ name: 'http', containerPort: 8080 }] } as unknown as ContainerView
// tcp and http probes never touch the backend; exec probes are covered by the runtime suites.
const ctx = { runtime: undefined as unknown as ServiceRuntime, key: 'default/web', container, netns }
let httpd: ChildProcess
let root: string

beforeAll(async () => {
  await runCommand(['ip', 'netns', 'add', netns])
  await runCommand(['ip', '-n', netns, 'link', 'set', 'lo', 'up'])
  root = mkdtempSync(join(tmpdir(), 'probe-www-'))
  writeFileSync(join(root, 'index.html'), 'ok\n')
  httpd = spawn('ip', ['netns', 'exec', netns, 'busybox', 'httpd', '-f', '-p', '127.0.0.1:8080', '-h', root], { stdio: 'ignore' })
  // Ready when the tcp probe itself sees it.
  for (let i = 0; i < 100 && !(await runProbe({ tcpSocket: { port: 8080 }, timeoutSeconds: 1 } as never, ctx))[0]; i++) await new Promise((r) => setTimeout(r, 100))
})

afterAll(async () => {
  httpd?.kill('SIGKILL')
  await deleteNetns(netns)
  rmSync(root, { recursive: true, force: true })
})

describe('probes in the pod namespace', () => {
  it('tcpSocket: connects by number or by named port; a closed port fails with a message', async () => {
    expect(await runProbe({ tcpSocket: { port: 8080 } } as never, ctx)).toEqual([true, 'tcp 127.0.0.1:8080 connected'])
    expect((await runProbe({ tcpSocket: { port: 'http' } } as never, ctx))[0]).toBe(true)
    const [ok, message] = await runProbe({ tcpSocket: { port: 8081 } } as never, ctx)
    expect(ok).toBe(false)
    expect(message).toMatch(/^tcp 127\.0\.0\.1:8081: /)
    expect(await runProbe({ tcpSocket: { port: 'nope' } } as never, ctx)).toEqual([false, 'port "nope" is not a named port of container web'])
  })

  it('httpGet: 2xx/3xx pass, 404 fails with the status, nothing listening fails', async () => {
    expect(await runProbe({ httpGet: { path: '/index.html', port: 8080 } } as never, ctx)).toEqual([true, 'http 127.0.0.1:8080/index.html: 200'])
    expect(await runProbe({ httpGet: { path: '/missing', port: 8080 } } as never, ctx)).toEqual([false, 'http 127.0.0.1:8080/missing: status 404'])
    expect((await runProbe({ httpGet: { path: '/', port: 8082 } } as never, ctx))[0]).toBe(false)
  })

  it('the namespace matters: the same port is closed outside it', async () => {
    const outside = { ...ctx, netns: `${netns}-absent` }
    expect((await runProbe({ tcpSocket: { port: 8080 } } as never, outside))[0]).toBe(false)
  })
})
