import { describe, expect, it } from 'vitest'
import { InvalidNameError } from './errors.js'
import { hbnPatchNames, ifNameProblem, isServiceVethName, OVN_PATCH, patchPortNames, pfRepresentorName, serviceVethName, validateIfName, validateNetnsName, vfRepresentorName } from './names.js'

// `printf %s default/fw-in | sha256sum`
const SHA_FW_IN = '2262799efc9e5ba9f9d87724ae2afd921440dfd8c91b7f79f98b549eedf75e75'

describe('validateIfName', () => {
  it.each(['eth0', 'p0', 'pf0hpf', 'a', 'x'.repeat(15), 'br-sfc_br-hbn', 'en3f0pf0sf4', 'veth.10'])('accepts %j', (name) => {
    expect(validateIfName(name)).toBe(name)
  })

  it.each([
    ['', /empty/],
    ['x'.repeat(16), /16 bytes/],
    ['ééééééé12', /16 bytes/],
    ['.', /"\."/],
    ['..', /"\."/],
    ['a/b', /'\/'/],
    ['eth0:1', /':'/],
    ['a b', /whitespace/],
    ['a\tb', /whitespace/],
    ['a\nb', /whitespace/],
  ])('rejects %j', (name, reason) => {
    expect(ifNameProblem(name)).toMatch(reason)
    expect(() => validateIfName(name)).toThrow(InvalidNameError)
    try {
      validateIfName(name)
    } catch (err) {
      expect((err as InvalidNameError).code).toBe('runtime.invalid-name')
      expect((err as InvalidNameError).context).toMatchObject({ kind: 'interface', name })
    }
  })
})

describe('validateNetnsName', () => {
  it('accepts long names and refuses path tricks', () => {
    expect(validateNetnsName('service-firewall-0123456789')).toBe('service-firewall-0123456789')
    for (const bad of ['', '.', '..', '../etc', 'a b']) expect(() => validateNetnsName(bad)).toThrow(InvalidNameError)
  })
})

describe('DPF names', () => {
  it('names PF and VF representors as DPF does', () => {
    expect(pfRepresentorName(0)).toBe('pf0hpf')
    expect(pfRepresentorName(1)).toBe('pf1hpf')
    expect(vfRepresentorName(0, 2)).toBe('pf0vf2')
    expect(vfRepresentorName(1, 127)).toBe('pf1vf127')
    expect(() => vfRepresentorName(-1, 0)).toThrow(InvalidNameError)
    expect(() => pfRepresentorName(0.5)).toThrow(InvalidNameError)
  })

  it('keeps the OVN patch names OVN-Kubernetes is configured with', () => {
    expect(OVN_PATCH).toEqual({ bridge: 'br-ovn', onOvn: 'puplinkbrovn', sfcBridge: 'br-sfc', onSfc: 'puplinkbrsfc' })
  })

  it('names the HBN patch pair after the host interface, longer than IFNAMSIZ since patch ports have no netdev', () => {
    expect(hbnPatchNames('pf0vf1')).toEqual({ onHbn: 'ppf0vf1brhbn', onSfc: 'ppf0vf1brsfc' })
    expect(hbnPatchNames('sv0123456789')).toEqual({ onHbn: 'psv0123456789brhbn', onSfc: 'psv0123456789brsfc' })
    expect(() => hbnPatchNames('a-host-iface-name-too-long')).toThrow(InvalidNameError)
  })
})

describe('patchPortNames', () => {
  it('is readable when it fits and mirrors for the peer', () => {
    expect(patchPortNames('br-sfc', 'br-hbn')).toEqual({ local: 'br-sfc_br-hbn', peer: 'br-hbn_br-sfc' })
  })

  it('hashes long or ambiguous names into 14 bytes, deterministically', () => {
    const long = patchPortNames('br-sfc', 'br-tenant-blue')
    expect(long.local).toMatch(/^pp[0-9a-f]{12}$/)
    expect(long.peer).toMatch(/^pp[0-9a-f]{12}$/)
    expect(long.local).not.toBe(long.peer)
    expect(patchPortNames('br-sfc', 'br-tenant-blue')).toEqual(long)
    // '_' inside a bridge name would make `a_b` + `c` and `a` + `b_c` collide, so those are hashed.
    expect(patchPortNames('a_b', 'c').local).not.toBe(patchPortNames('a', 'b_c').local)
  })

  it('gives every name of a many-bridge layout a distinct valid name', () => {
    const bridges = ['br-sfc', 'br-hbn', 'br-ovn', 'br-int', 'br-ex', 'br-tenant-a', 'br-tenant-b']
    const names = new Set<string>()
    for (const a of bridges) for (const b of bridges) if (a !== b) names.add(patchPortNames(a, b).local)
    expect(names.size).toBe(bridges.length * (bridges.length - 1))
    for (const n of names) expect(ifNameProblem(n)).toBeUndefined()
  })
})

describe('serviceVethName', () => {
  it('is sv + 10 hex of sha256(dpfId): stable, short, distinct', () => {
    expect(serviceVethName('default/fw-in')).toBe('sv' + SHA_FW_IN.slice(0, 10))
    expect(serviceVethName('default/fw-in')).toHaveLength(12)
    expect(serviceVethName('default/fw-out')).not.toBe(serviceVethName('default/fw-in'))
    expect(ifNameProblem(serviceVethName('ns/pod/net1'))).toBeUndefined()
  })

  it('is recognised by isServiceVethName, and other names are not', () => {
    expect(isServiceVethName(serviceVethName('default/fw-in'))).toBe(true)
    for (const other of ['sv0123', 'sv0123456789a', 'svABCDEF0123', 'p0', 'br-sfc']) expect(isServiceVethName(other)).toBe(false)
  })
})
