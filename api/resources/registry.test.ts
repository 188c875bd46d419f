import { describe, expect, it } from 'vitest'
import { findKind, KINDS, kindByPath, kindFor } from './registry.js'

describe('KINDS', () => {
  it('holds the DPF fleet kinds and the node kinds', () => {
    expect(KINDS.map((k) => `${k.apiVersion} ${k.kind} ${k.level}`)).toEqual([
      'provisioning.dpu.nvidia.com/v1alpha1 BFB fleet',
      'provisioning.dpu.nvidia.com/v1alpha1 DPUFlavor node',
      'provisioning.dpu.nvidia.com/v1alpha1 DPUSet fleet',
      'svc.dpu.nvidia.com/v1alpha1 DPUDeployment fleet',
      'svc.dpu.nvidia.com/v1alpha1 DPUService fleet',
      'svc.dpu.nvidia.com/v1alpha1 DPUServiceChain fleet',
      'svc.dpu.nvidia.com/v1alpha1 DPUServiceConfiguration fleet',
      'svc.dpu.nvidia.com/v1alpha1 DPUServiceIPAM fleet',
      'svc.dpu.nvidia.com/v1alpha1 DPUServiceInterface fleet',
      'svc.dpu.nvidia.com/v1alpha1 DPUServiceNAD node',
      'svc.dpu.nvidia.com/v1alpha1 DPUServiceTemplate fleet',
      'svc.dpu.nvidia.com/v1alpha1 Service node',
      'svc.dpu.nvidia.com/v1alpha1 ServiceChain node',
      'svc.dpu.nvidia.com/v1alpha1 ServiceInterface node',
    ])
  })

  it('gives every name to one kind only', () => {
    const owner = new Map<string, string>()
    for (const k of KINDS)
      for (const w of new Set([k.kind.toLowerCase(), k.singular, k.plural, ...k.shortNames])) {
        expect(owner.get(w), `${w} is used by ${owner.get(w)} and ${k.kind}`).toBeUndefined()
        owner.set(w, k.kind)
      }
  })

  it('uses lower-case DNS-label plurals and singulars', () => {
    for (const k of KINDS) {
      expect(k.plural).toMatch(/^[a-z]+$/)
      expect(k.singular).toBe(k.kind.toLowerCase())
      expect(k.apiVersion).toBe(`${k.group}/${k.version}`)
    }
  })

  it('is frozen', () => {
    expect(Object.isFrozen(KINDS)).toBe(true)
    expect(Object.isFrozen(KINDS[0])).toBe(true)
  })
})

describe('findKind', () => {
  it.each([
    ['dpuservicechains', 'DPUServiceChain'],
    ['dpuservicechain', 'DPUServiceChain'],
    ['dsc', 'DPUServiceChain'],
    ['DPUServiceChain', 'DPUServiceChain'],
    ['DSC', 'DPUServiceChain'],
    ['serviceinterfaces', 'ServiceInterface'],
    ['si', 'ServiceInterface'],
    ['sc', 'ServiceChain'],
    ['svc', 'Service'],
    ['services', 'Service'],
    ['service', 'Service'],
    ['servicechain', 'ServiceChain'],
    ['dpuflavors', 'DPUFlavor'],
    ['bfbs', 'BFB'],
    ['bfb', 'BFB'],
    ['dsi', 'DPUServiceInterface'],
    ['dsnad', 'DPUServiceNAD'],
    ['dpuserviceipams', 'DPUServiceIPAM'],
    ['dpusets', 'DPUSet'],
    ['dpudeployments', 'DPUDeployment'],
    ['dpuservices', 'DPUService'],
    ['dpuservicechains.svc.dpu.nvidia.com', 'DPUServiceChain'],
    ['sc.svc.dpu.nvidia.com', 'ServiceChain'],
    ['ServiceInterface.svc.dpu.nvidia.com', 'ServiceInterface'],
    ['dflavor.provisioning.dpu.nvidia.com', 'DPUFlavor'],
    ['servicechains.v1alpha1.svc.dpu.nvidia.com', 'ServiceChain'],
  ])('%s -> %s', (word, kind) => {
    expect(findKind(word)?.kind).toBe(kind)
  })
  it.each(['', 'pods', 'servicechainsets', 'dpu', 'dpuservicechains.provisioning.dpu.nvidia.com', 'sc.svc', 'sc.v1.svc.dpu.nvidia.com'])('%j -> undefined', (word) => {
    expect(findKind(word)).toBeUndefined()
  })
})

describe('kindFor and kindByPath', () => {
  it('finds a kind by apiVersion and Kind, case-sensitively', () => {
    expect(kindFor('svc.dpu.nvidia.com/v1alpha1', 'ServiceChain')?.plural).toBe('servicechains')
    expect(kindFor('svc.dpu.nvidia.com/v1alpha1', 'servicechain')).toBeUndefined()
    expect(kindFor('provisioning.dpu.nvidia.com/v1alpha1', 'ServiceChain')).toBeUndefined()
  })
  it('finds every kind by its REST path', () => {
    for (const k of KINDS) expect(kindByPath(k.group, k.version, k.plural)).toBe(k)
    expect(kindByPath('svc.dpu.nvidia.com', 'v1', 'servicechains')).toBeUndefined()
    expect(kindByPath('svc.dpu.nvidia.com', 'v1alpha1', 'ServiceChains')).toBeUndefined()
  })
})
