import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { APPLIANCE_PATHS, computeAppliancePlan, DEVELOPMENT_CONFIG, UNITS } from './appliance-plan.js'
import { parseFlavorText } from './flavor.js'
import { IGNITION_VERSIONS, renderIgnition, serializeIgnition, type IgnitionConfig, type RenderIgnitionOptions } from './render.js'
import { IgnitionInputError } from './errors.js'

const fixture = async (name: string): Promise<string> => readFile(new URL(`./testdata/${name}`, import.meta.url), 'utf8')
const hbn = parseFlavorText(await fixture('flavor-hbn-ovn.yaml'))
const hostile = parseFlavorText(await fixture('flavor-hostile.yaml'))
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILwSOYaiYMGVtKYs6B0EuD3g8YM0NJA+N27gXffcixwy op@host'

/** Debian's ignition-validate 2.14 knows 3.4 only as 3.4.0-experimental (reference/image.md §7). */
function validate(text: string): { rc: number | null; stdout: string; stderr: string } {
  const input = text.replace(/"version": "3\.4\.0"/, '"version": "3.4.0-experimental"')
  const r = spawnSync('ignition-validate', ['-'], { input, encoding: 'utf8' })
  return { rc: r.status, stdout: r.stdout, stderr: r.stderr }
}

function decode(resource: { source: string; compression?: string }): Buffer {
  const m = /^data:(;base64)?,(.*)$/s.exec(resource.source)
  if (!m) throw new Error(`not a data URL: ${resource.source.slice(0, 40)}`)
  const raw = m[1] ? Buffer.from(m[2]!, 'base64') : Buffer.from(decodeURIComponent(m[2]!), 'utf8')
  return resource.compression === 'gzip' ? gunzipSync(raw) : raw
}

const bigCert = Buffer.from(`-----BEGIN CERTIFICATE-----\n${'QUJD'.repeat(1500)}\n-----END CERTIFICATE-----\n`)
const variants: { name: string; plan: Parameters<typeof computeAppliancePlan>[0]; options: RenderIgnitionOptions }[] = [
  { name: 'development (no inputs)', plan: {}, options: {} },
  {
    name: 'hbn-ovn flavor, config, certs, user',
    plan: {
      flavor: hbn,
      config: Buffer.from('node:\n  name: dpu-a\n'),
      certificates: [
        { name: 'ca.pem', contents: bigCert },
        { name: 'tls.key', contents: Buffer.from('KEY\n') },
      ],
    },
    options: { users: [{ name: 'core', sshAuthorizedKeys: [KEY] }] },
  },
  { name: 'hostile flavor', plan: { flavor: hostile }, options: {} },
  { name: 'bundle by URL', plan: { flavor: hbn }, options: { bundle: { url: 'https://example.com/b.tar.gz', sha256: 'a'.repeat(64) } } },
]

describe.each(IGNITION_VERSIONS)('Ignition %s', (version) => {
  it.each(variants)('$name passes ignition-validate with no warnings', ({ plan, options }) => {
    const text = serializeIgnition(renderIgnition(computeAppliancePlan(plan), { ...options, version }))
    const r = validate(text)
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('')
    expect(r.rc).toBe(0)
  })
})

describe('content', () => {
  it('embeds every file literally, with modes, and compresses large ones', () => {
    const plan = computeAppliancePlan({ flavor: hostile, certificates: [{ name: 'ca.pem', contents: bigCert }] })
    const cfg = renderIgnition(plan)
    const files = new Map(cfg.storage.files.map((f) => [f.path, f]))
    for (const f of plan.files) {
      const got = files.get(f.path)!
      expect(got.mode).toBe(f.mode)
      expect(decode(f.append ? got.append![0]! : got.contents!)).toEqual(f.contents)
    }
    expect(files.get('/etc/dpu-appliance/certs/ca.pem')).toMatchObject({ mode: 0o600, contents: { compression: 'gzip' } })
    expect(decode(files.get(APPLIANCE_PATHS.config)!.contents!).toString()).toBe(DEVELOPMENT_CONFIG)
    const quotes = decode(files.get('/etc/hostile/quotes.conf')!.contents!).toString()
    expect(quotes).toBe(hostile.spec.configFiles![0]!.raw)
    expect(files.get('/etc/hostile/quotes.conf')!.mode).toBe(0o600)
    expect(cfg.kernelArguments?.shouldExist).toEqual(['foo="a b"', 'bar=$(touch$IFS/tmp/dpuctl-pwned)', "baz=`id`'q'"])
    expect(decode(files.get(APPLIANCE_PATHS.sysctl)!.contents!).toString()).toBe("kernel.domainname=$(touch /tmp/dpuctl-pwned)'`x`\n")
  })

  it('runs the appliance from the bundle and unpacks it first', () => {
    const cfg: IgnitionConfig = renderIgnition(computeAppliancePlan({ flavor: hbn }))
    const units = new Map(cfg.systemd.units.map((u) => [u.name, u]))
    expect([...units.keys()]).toEqual([UNITS.unpack, UNITS.ovsBootstrap, UNITS.appliance])
    const unit = units.get(UNITS.appliance)!.contents!
    // The start-up-only flags and environment of api/support/appliance-runtime.ts (issue #13, RSS budget).
    expect(unit).toContain(
      'ExecStart=/usr/bin/env node --max-semi-space-size=2 /opt/dpu-appliance/bin/dpuctl.mjs appliance run --config /etc/dpu-appliance/appliance.yaml --data-dir /var/lib/dpu-appliance --listen 0.0.0.0:8443',
    )
    expect(unit).toContain('\nEnvironment=MALLOC_ARENA_MAX=2\n')
    expect(units.get(UNITS.unpack)!.contents).toContain(APPLIANCE_PATHS.bundleInImage)
    const ovs = decode(cfg.storage.files.find((f) => f.path === APPLIANCE_PATHS.ovsBootstrap)!.contents!).toString()
    expect(ovs).toContain(hbn.spec.ovs!.rawConfigScript!.trimEnd())
  })

  it('3.2.0 has no kernelArguments: an rpm-ostree unit sets them', () => {
    const cfg = renderIgnition(computeAppliancePlan({ flavor: hbn }), { version: '3.2.0' })
    expect(cfg.kernelArguments).toBeUndefined()
    const kargs = cfg.systemd.units.find((u) => u.name === UNITS.kargs)!
    expect(kargs.contents).toContain('--append-if-missing=hugepages=3072')
  })

  it('is byte-stable', () => {
    const a = serializeIgnition(renderIgnition(computeAppliancePlan({ flavor: hbn, certificates: [{ name: 'c', contents: bigCert }] })))
    const b = serializeIgnition(renderIgnition(computeAppliancePlan({ flavor: hbn, certificates: [{ name: 'c', contents: bigCert }] })))
    expect(a).toBe(b)
  })
})

describe('inputs are validated before rendering', () => {
  it('rejects a bad SSH key, a bad user, a bad version', () => {
    const plan = computeAppliancePlan({})
    expect(() => renderIgnition(plan, { users: [{ name: 'core', sshAuthorizedKeys: ['not a key\nssh-rsa x'] }] })).toThrow(/users\[0\]\.sshAuthorizedKeys\[0\]/)
    expect(() => renderIgnition(plan, { users: [{ name: 'Root!', sshAuthorizedKeys: [] }] })).toThrow(IgnitionInputError)
    expect(() => renderIgnition(plan, { version: '3.5.0' as never })).toThrow(/version/)
  })

  it('rejects flavor values that cannot be rendered', () => {
    const bad = (spec: string) => () => parseFlavorText(`apiVersion: provisioning.dpu.nvidia.com/v1alpha1\nkind: DPUFlavor\nmetadata: {name: x}\nspec: ${spec}\n`)
    expect(bad('{grub: {kernelParameters: ["a b"]}}')).toThrow(/spec\.grub\.kernelParameters\[0\]/)
    expect(bad('{grub: {kernelParameters: ["a\\nb"]}}')).toThrow(/kernelParameters/)
    expect(bad('{sysctl: {parameters: ["no-equals"]}}')).toThrow(/spec\.sysctl\.parameters\[0\]/)
    expect(bad('{configFiles: [{path: relative}]}')).toThrow(/configFiles/)
    expect(bad('{configFiles: [{path: /etc/dpu-appliance/appliance.yaml}]}')).not.toThrow()
    expect(() => computeAppliancePlan({ flavor: bad('{configFiles: [{path: /etc/dpu-appliance/appliance.yaml}]}')() })).toThrow(/two files/)
  })
})
