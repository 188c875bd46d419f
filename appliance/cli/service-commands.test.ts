import { describe, expect, it } from 'vitest'
import { UsageError } from '../../api/cli.js'
import { dispatch } from '../../api/cli-dispatch.js'
import type { StoredObject } from '../../api/meta.js'
import { renderDescription } from './describe.js'
import { applianceClientCommands } from './index.js'
import { objectRows } from './output.js'
import { logQuery, parseSince, serviceName, splitExecArgs } from './service-commands.js'

describe('logs, exec and restart arguments', () => {
  it('turns logs flags into the Kubernetes pods/log query', () => {
    expect(logQuery({ container: 'c1', follow: true, tail: '20', since: '5m' }).toString()).toBe('container=c1&follow=true&tailLines=20&sinceSeconds=300')
    expect(logQuery({}).toString()).toBe('')
    expect(() => logQuery({ tail: '-3' })).toThrow(UsageError)
    expect(parseSince('90s')).toBe(90)
    expect(parseSince('2h')).toBe(7200)
    expect(() => parseSince('500ms')).toThrow(/at least 1s/)
    expect(() => parseSince('yesterday')).toThrow(/--since must be a duration/)
  })

  it('takes NAME or service/NAME, and nothing else', () => {
    expect(serviceName('fwd')).toBe('fwd')
    expect(serviceName('service/fwd')).toBe('fwd')
    expect(serviceName('svc/fwd')).toBe('fwd')
    expect(() => serviceName('sc/fwd')).toThrow(/only services/)
  })

  it('splits exec flags from the command at --, keeping the command whole', () => {
    expect(splitExecArgs(['fwd', '-c', 'main', '--', 'sh', '-c', 'echo hi -- there'])).toEqual({ flags: ['fwd', '-c', 'main'], command: ['sh', '-c', 'echo hi -- there'] })
    expect(() => splitExecArgs(['fwd', 'ls'])).toThrow(/needs -- before the command/)
    expect(() => splitExecArgs(['fwd', '--'])).toThrow(/needs a command after --/)
  })

  it('answers usage errors with exit 2 before reaching any server, and leaves -h after -- to the command', async () => {
    const out: string[] = []
    const sink = { write: (s: string) => (out.push(s), true) } as unknown as NodeJS.WritableStream
    const io = { stdout: sink, stderr: sink, stdin: process.stdin, env: { DPUCTL_SERVER: 'http://127.0.0.1:9' }, cwd: process.cwd() }
    expect(await dispatch(applianceClientCommands, ['exec', 'fwd', 'ls'], io)).toBe(2)
    expect(out.join('')).toContain('dpuctl exec: exec needs -- before the command')
    out.length = 0
    expect(await dispatch(applianceClientCommands, ['logs'], io)).toBe(2)
    expect(out.join('')).toContain('logs needs a SERVICE')
    out.length = 0
    expect(await dispatch(applianceClientCommands, ['restart', 'a', 'b'], io)).toBe(2)
    expect(out.join('')).toContain('restart takes one SERVICE')
    out.length = 0
    expect(await dispatch(applianceClientCommands, ['exec', 'fwd', '--timeout', '10m', '--', 'ls'], io)).toBe(2)
    expect(out.join('')).toContain('--timeout must be between 1s and 300s')
    out.length = 0
    // -h after -- is the command's: dpuctl goes on to the (unreachable) server instead of printing its usage.
    expect(await dispatch(applianceClientCommands, ['exec', 'fwd', '--token-file', '/dev/null', '--', 'ls', '-h'], io)).toBe(1)
    expect(out.join('')).not.toContain('Usage: dpuctl exec')
  })
})

const service = (name: string, status: Record<string, unknown>): StoredObject =>
  ({
    apiVersion: 'svc.dpu.nvidia.com/v1alpha1',
    kind: 'Service',
    metadata: { name, namespace: 'default', generation: 1, origin: 'local', uid: 'u', resourceVersion: '1', creationTimestamp: new Date().toISOString() },
    spec: {
      serviceID: name,
      template: {
        spec: {
          restartPolicy: 'Always',
          containers: [
            { name: 'main', image: 'busybox:1', command: ['/bin/sh', '-c', 'echo hi; sleep 9'] },
            { name: 'side', image: 'sidecar:2' },
          ],
        },
      },
    },
    status,
  }) as unknown as StoredObject

const running = {
  phase: 'Running',
  runtime: 'process',
  netns: 'svc-fwd',
  restarts: 3,
  conditions: [{ type: 'Ready', status: 'True', reason: 'Running', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }],
  interfaces: [
    { name: 'fwd-in', interfaceName: 'net1', network: 'mybrsfc', ready: true },
    { name: 'fwd-out', interfaceName: 'net2', network: 'mybrsfc', ready: false },
  ],
  containers: [
    { name: 'main', image: 'busybox:1', state: 'running', ready: true, restartCount: 3, pid: 4242, startedAt: new Date().toISOString() },
    { name: 'side', image: 'sidecar:2', state: 'exited', ready: false, restartCount: 0, exitCode: 1 },
  ],
}

describe('get services and describe service', () => {
  it('prints NAME, PHASE, READY containers, RESTARTS and AGE; -o wide adds runtime, images, interfaces, reason', () => {
    const rows = objectRows([service('fwd', running), service('new', {})], { wide: false, allNamespaces: false })
    expect(rows[0]).toEqual(['NAME', 'PHASE', 'READY', 'RESTARTS', 'AGE'])
    expect(rows[1]!.slice(0, 4)).toEqual(['fwd', 'Running', '1/2', '3'])
    expect(rows[2]!.slice(0, 4)).toEqual(['new', 'Unknown', '0/2', '0'])
    const wide = objectRows([service('fwd', running)], { wide: true, allNamespaces: true })
    expect(wide[0]).toEqual(['NAMESPACE', 'NAME', 'PHASE', 'READY', 'RESTARTS', 'AGE', 'RUNTIME', 'IMAGES', 'INTERFACES', 'REASON'])
    expect(wide[1]!.slice(6)).toEqual(['process', 'busybox:1,sidecar:2', 'net1@mybrsfc,net2@mybrsfc(unready)', 'Running'])
  })

  it('describes a service by its spec summary, containers, interfaces and conditions', () => {
    const text = renderDescription(service('fwd', running), [{ type: 'Normal', reason: 'Restarted', message: 'container main restarted (restart 3)', time: new Date().toISOString() }] as never)
    expect(text).toMatch(/Service ID:\s+fwd/)
    expect(text).toMatch(/Restart Policy:\s+Always/)
    expect(text).toContain('Command:   /bin/sh -c "echo hi; sleep 9"')
    expect(text).toMatch(/NAME\s+STATE\s+READY\s+RESTARTS\s+EXIT CODE\s+PID\s+STARTED\s+IMAGE/)
    expect(text).toMatch(/main\s+running\s+true\s+3\s+-\s+4242\s+\d+s ago\s+busybox:1/)
    expect(text).toMatch(/side\s+exited\s+false\s+0\s+1\s+-\s+-\s+sidecar:2/)
    expect(text).toMatch(/fwd-out\s+net2\s+mybrsfc\s+false/)
    expect(text).toMatch(/Ready\s+True\s+Running/)
    expect(text).toMatch(/Normal\s+Restarted\s+\d+s\s+container main restarted/)
    // Shown as tables, not again as YAML.
    expect(text).not.toMatch(/^\s+containers:/m)
  })
})
