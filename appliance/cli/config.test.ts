import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tokensEqual } from '../rest/middleware/auth/index.js'
import { loadOrCreateToken } from '../rest/token-file.js'
import { describeNodeNameSource, resolveApplianceConfig, splitListen } from './config.js'

const dir = mkdtempSync(join(tmpdir(), 'config-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('resolveApplianceConfig', () => {
  it('merges the file under the flags and resolves paths against cwd', () => {
    const file = join(dir, 'a.yaml')
    writeFileSync(
      file,
      'data-dir: state\nlisten: 0.0.0.0:9000\nnode-name: file-node\nnode-label: [zone=a]\novsdb: tcp:127.0.0.1:6640\n' +
        'bridges: {hbn: br-tenant}\nother-config: {hw-offload: true}\nmtu: 9000\nallowed-host: [dpu.mgmt.example]\napi-tls-cert: tls/api.crt\napi-tls-key: tls/api.key\n',
    )
    const c = resolveApplianceConfig({ config: file, listen: '127.0.0.1:1234', 'node-label': ['rack=r1'], datapath: 'system', 'allowed-host': ['dpu-a'], 'public-metrics': true }, dir)
    expect(c).toEqual({
      dataDir: join(dir, 'state'),
      listen: '127.0.0.1:1234',
      nodeName: 'file-node',
      nodeNameFrom: 'config-file',
      nodeLabels: { zone: 'a', rack: 'r1' },
      logLevel: 'info',
      ovsdb: 'tcp:127.0.0.1:6640',
      ovsRundir: '/var/run/openvswitch',
      datapath: 'system',
      bridges: { sfc: 'br-sfc', hbn: 'br-tenant', ovn: 'br-ovn' },
      otherConfig: { 'hw-offload': 'true' },
      mtu: 9000,
      insecure: false,
      allowedHosts: ['dpu.mgmt.example', 'dpu-a'],
      apiTlsCert: join(dir, 'tls/api.crt'),
      apiTlsKey: join(dir, 'tls/api.key'),
      publicMetrics: true,
      serviceRuntime: 'auto',
    })
  })

  it.each([
    [{ listen: 'nowhere' }, /listen/],
    [{ listen: '1.2.3.4:70000' }, /port/],
    [{ 'node-name': 'Upper_Case' }, /nodeName/],
    [{ 'node-label': ['novalue'] }, /key=value/],
    [{ 'log-level': 'loud' }, /logLevel/],
    [{ ovsdb: 'http://x' }, /ovsdb/],
    [{ datapath: 'dpdk' }, /datapath/],
  ])('rejects %o', (flags, message) => {
    expect(() => resolveApplianceConfig({ 'node-name': 'n', ...flags }, dir)).toThrow(message)
  })

  it('rejects unknown keys in the file', () => {
    const file = join(dir, 'b.yaml')
    writeFileSync(file, 'datadir: x\n')
    expect(() => resolveApplianceConfig({ config: file }, dir)).toThrow(/unknown key "datadir"/)
  })

  it('defaults the node name to the lower-cased host name and says where each name came from', () => {
    const fromHost = resolveApplianceConfig({}, dir)
    expect(fromHost.nodeName).toBe(hostname().toLowerCase())
    expect(fromHost.nodeNameFrom).toBe('host-name')
    expect(describeNodeNameSource(fromHost.nodeNameFrom)).toBe('from the host name; --node-name to change')
    expect(resolveApplianceConfig({ 'node-name': 'dpu-a' }, dir).nodeNameFrom).toBe('flag')
  })

  it('splits IPv4 and IPv6 listen addresses', () => {
    expect(splitListen('127.0.0.1:80')).toEqual({ host: '127.0.0.1', port: 80 })
    expect(splitListen('[::1]:8080')).toEqual({ host: '::1', port: 8080 })
  })
})

describe('token file and comparison', () => {
  it('creates a 0600 random token once and reads it back after', () => {
    const f = join(dir, 'token')
    const t = loadOrCreateToken(f, true)
    expect(statSync(f).mode & 0o777).toBe(0o600)
    expect(loadOrCreateToken(f, true)).toBe(t)
    expect(loadOrCreateToken(join(dir, 'token'), false)).toBe(t)
    expect(() => loadOrCreateToken(join(dir, 'missing'), false)).toThrow(/cannot read token file/)
  })

  it('compares tokens of any length', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true)
    expect(tokensEqual('abd', 'abc')).toBe(false)
    expect(tokensEqual('ab', 'abc')).toBe(false)
    expect(tokensEqual('', 'abc')).toBe(false)
  })
})
