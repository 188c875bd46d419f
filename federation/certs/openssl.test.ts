import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLIENT_AUTH_OID, dpuNameFromCertificate, identifyDpu } from './identity.js'
import { initDevPki, issueDpuCertificate } from './openssl.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certs-test-'))
  await initDevPki(dir)
})
afterAll(async () => rm(dir, { recursive: true, force: true }))

describe('development PKI (openssl)', () => {
  it('creates a CA and a hub certificate for localhost and 127.0.0.1 signed by it', async () => {
    const ca = new X509Certificate(await readFile(join(dir, 'ca.crt')))
    const hub = new X509Certificate(await readFile(join(dir, 'hub.crt')))
    expect(ca.ca).toBe(true)
    expect(hub.verify(ca.publicKey)).toBe(true)
    expect(hub.checkHost('localhost')).toBe('localhost')
    expect(hub.checkIP('127.0.0.1')).toBe('127.0.0.1')
    expect((await stat(join(dir, 'hub.key'))).mode & 0o077).toBe(0)
  })

  it('refuses to overwrite an existing CA', async () => {
    await expect(initDevPki(dir)).rejects.toThrow(/refusing to replace/)
  })

  it('issues a DPU certificate whose identity is its URI SAN', async () => {
    const { cert } = await issueDpuCertificate({ caDir: dir, outDir: dir, dpu: 'dpu-a' })
    const x = new X509Certificate(await readFile(cert))
    expect(x.subjectAltName).toBe('URI:spiffe://dpu-appliance/dpu/dpu-a')
    expect(x.verify(new X509Certificate(await readFile(join(dir, 'ca.crt'))).publicKey)).toBe(true)
    expect(dpuNameFromCertificate({ subjectaltname: x.subjectAltName, subject: { CN: 'dpu-a' } })).toBe('dpu-a')
  })

  it('issues certificates with explicit validity (an expired one for tests)', async () => {
    const { cert } = await issueDpuCertificate({ caDir: dir, outDir: dir, dpu: 'old', notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-01-02T00:00:00Z') })
    const x = new X509Certificate(await readFile(cert))
    expect(new Date(x.validTo).getTime()).toBe(Date.parse('2020-01-02T00:00:00Z'))
  })

  it('rejects a DPU name that is not a DNS-1123 subdomain', async () => {
    await expect(issueDpuCertificate({ caDir: dir, outDir: dir, dpu: 'Bad_Name' })).rejects.toThrow(/not a valid DPU name/)
  })
})

describe('identity from a peer certificate', () => {
  it('prefers the URI SAN, falls back to CN, and refuses foreign trust domains', () => {
    expect(dpuNameFromCertificate({ subjectaltname: 'DNS:x, URI:spiffe://dpu-appliance/dpu/dpu-b', subject: { CN: 'dpu-a' } })).toBe('dpu-b')
    expect(dpuNameFromCertificate({ subject: { CN: 'dpu-c' } })).toBe('dpu-c')
    expect(dpuNameFromCertificate({ subjectaltname: 'URI:spiffe://other/dpu/dpu-a', subject: { CN: 'dpu-a' } })).toBeNull()
    expect(dpuNameFromCertificate({ subject: { CN: 'Not A Name' } })).toBeNull()
    expect(dpuNameFromCertificate(null)).toBeNull()
  })
})

describe("the hub's identity rule", () => {
  const eku = [CLIENT_AUTH_OID]
  it('requires clientAuth, refuses two DPUs, and keeps CN only without URI SANs', () => {
    expect(identifyDpu({ subjectaltname: 'URI:spiffe://dpu-appliance/dpu/dpu-a', subject: { CN: 'dpu-a' } })).toMatchObject({ ok: false, reason: expect.stringMatching(/clientAuth/) })
    expect(identifyDpu({ subjectaltname: 'URI:spiffe://dpu-appliance/dpu/dpu-a', ext_key_usage: ['1.3.6.1.5.5.7.3.1'] })).toMatchObject({ ok: false })
    expect(identifyDpu({ subjectaltname: 'URI:spiffe://dpu-appliance/dpu/dpu-a, URI:spiffe://dpu-appliance/dpu/dpu-b', ext_key_usage: eku })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/names 2 DPUs/),
    })
    expect(identifyDpu({ subjectaltname: 'URI:spiffe://dpu-appliance/dpu/dpu-a', ext_key_usage: eku })).toEqual({ ok: true, name: 'dpu-a' })
    expect(identifyDpu({ subject: { CN: 'dpu-c' }, ext_key_usage: eku })).toEqual({ ok: true, name: 'dpu-c' })
    expect(identifyDpu({ subject: { CN: ['dpu-c', 'dpu-d'] }, ext_key_usage: eku })).toMatchObject({ ok: false })
    expect(identifyDpu(null)).toMatchObject({ ok: false, reason: 'no client certificate' })
  })
})
