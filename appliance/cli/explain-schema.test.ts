import { describe, expect, it } from 'vitest'
import { jsonSchema } from '../../api/openapi.js'
import { findKind } from '../../api/resources/registry.js'
import { findField, renderExplain, typeLabel, type JsonSchema } from './explain-schema.js'

const explain = (word: string, path: string[], recursive = false) => {
  const kind = findKind(word)!
  const root = jsonSchema(kind.schema) as JsonSchema
  return renderExplain(kind, root, findField(root, kind.kind, path), { recursive })
}

describe('explain', () => {
  it('prints a field of a kind in kubectl explain layout, with its type and required fields', () => {
    expect(explain('dsc', ['spec', 'template'])).toBe(
      [
        'GROUP:      svc.dpu.nvidia.com',
        'KIND:       DPUServiceChain',
        'VERSION:    v1alpha1',
        '',
        'FIELD: template <Object> -required-',
        '',
        'DESCRIPTION:',
        '    <empty>',
        '',
        'FIELDS:',
        '  metadata\t<Object>',
        '    <empty>',
        '',
        '  spec\t<Object> -required-',
        '    <empty>',
        '',
      ].join('\n'),
    )
  })

  it('describes the kind itself and its top-level fields', () => {
    const text = explain('dsc', [])
    expect(text).toMatch(/^DESCRIPTION:\n {4}DPUServiceChain is a DPF fleet object/m)
    expect(text).toMatch(/^ {2}kind\t<string> -required-\n {4}The type of this object, in CamelCase.\n {4}enum: DPUServiceChain$/m)
    expect(text).not.toMatch(/^FIELD:/m)
  })

  it('walks through lists and prints enums; --recursive indents nested fields', () => {
    expect(explain('si', ['spec', 'interfaceType'])).toMatch(/FIELD: interfaceType <string> -required-\n\nDESCRIPTION:\n {4}<empty>\n {4}enum: vlan, physical, pf, vf, ovn, service, patch\n$/)
    const ports = explain('sc', ['spec', 'switches', 'ports'], true)
    expect(ports).toContain('FIELD: ports <[]Object> -required-')
    expect(ports).toContain('FIELDS:\n  serviceInterface\t<Object> -required-\n    matchLabels\t<map[string]string> -required-\n    ipam\t<Object>\n      matchLabels')
  })

  it('names a missing field, with the nearest one', () => {
    const root = jsonSchema(findKind('dsc')!.schema) as JsonSchema
    expect(() => findField(root, 'DPUServiceChain', ['spec', 'templat'])).toThrow('field "templat" does not exist in DPUServiceChain.spec; did you mean "template"?')
  })

  it('names types as kubectl does', () => {
    expect(typeLabel({ anyOf: [{ type: 'integer' }, { type: 'string' }] })).toBe('IntOrString')
    expect(typeLabel({ type: 'array', items: { type: 'string' } })).toBe('[]string')
    expect(typeLabel({ type: 'object', additionalProperties: { type: 'string' } })).toBe('map[string]string')
    expect(typeLabel({ type: 'object', properties: { a: {} }, additionalProperties: {} })).toBe('Object')
  })
})
