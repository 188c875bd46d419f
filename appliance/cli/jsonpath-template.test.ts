import { describe, expect, it } from 'vitest'
import { UsageError } from '../../api/cli.js'
import { customColumnRows, parseCustomColumns } from './custom-columns.js'
import { parseJsonPathTemplate, renderJsonPathTemplate, toJsonPathPlus } from './jsonpath-template.js'
import { parseOutputFormat } from './output-format.js'

const list = {
  apiVersion: 'v1',
  kind: 'List',
  items: [
    {
      metadata: { name: 'a', labels: { 'app.kubernetes.io/name': 'fw' } },
      spec: { switches: [{ ports: [1, 2] }] },
      status: {
        conditions: [
          { type: 'Offloadable', status: 'True' },
          { type: 'Ready', status: 'False' },
        ],
      },
    },
    { metadata: { name: 'b' }, spec: { switches: [] }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
  ],
}

const render = (template: string, value: unknown = list) => renderJsonPathTemplate(parseJsonPathTemplate(template), value)

describe('kubectl jsonpath templates', () => {
  it.each<[string, string]>([
    ['{.items[*].metadata.name}', 'a b'],
    ['{range .items[*]}{.metadata.name}{"\\n"}{end}', 'a\nb\n'],
    ['{range .items[*]}{.metadata.name}{"\\t"}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}', 'a\tFalse\nb\tTrue\n'],
    ['{.kind}/{.items[0].metadata.name}', 'List/a'],
    ['{.items[0].metadata.labels.app\\.kubernetes\\.io/name}', 'fw'],
    ["{.items[0].metadata.labels['app.kubernetes.io/name']}", 'fw'],
    ['{.items[-1:].metadata.name}', 'b'],
    ['{.items[0].spec.switches[0]}', '{"ports":[1,2]}'],
    ['{.items[*].nothing}', ''],
    ['{$.kind} {@.apiVersion}', 'List v1'],
    ['.items[*].metadata.name', 'a b'],
    ['{range .items[*]}{range .status.conditions[*]}{.type}={.status};{end}{"\\n"}{end}', 'Offloadable=True;Ready=False;\nReady=True;\n'],
  ])('%s', (template, want) => {
    expect(render(template)).toBe(want)
  })

  it('applies to one object as well as a List', () => {
    expect(render('{.metadata.name}', list.items[1])).toBe('b')
  })

  it.each([['{.items['], ['{.items[*]'], ['{range .items[*]}{.x}'], ['{end}'], ['{.a"}'], ['{}'], ['{.items[?(@.x=="a")}']])('refuses %s as a usage error', (template) => {
    expect(() => parseJsonPathTemplate(template)).toThrow(UsageError)
  })

  it('translates kubectl paths to jsonpath-plus paths', () => {
    expect(toJsonPathPlus('.metadata.labels.app\\.kubernetes\\.io/name')).toBe("$.metadata.labels['app.kubernetes.io/name']")
    expect(toJsonPathPlus('metadata.name')).toBe('$.metadata.name')
    expect(toJsonPathPlus('..name')).toBe('$..name')
    expect(toJsonPathPlus('@')).toBe('$')
  })
})

describe('custom columns', () => {
  it('prints one row per object, <none> for a missing value, values joined by commas', () => {
    const columns = parseCustomColumns('NAME:.metadata.name,READY:.status.conditions[?(@.type=="Ready")].status,TYPES:{.status.conditions[*].type},X:.spec.nope')
    expect(customColumnRows(columns, list.items)).toEqual([
      ['NAME', 'READY', 'TYPES', 'X'],
      ['a', 'False', 'Offloadable,Ready', '<none>'],
      ['b', 'True', 'Ready', '<none>'],
    ])
  })

  it('does not split at commas inside a filter', () => {
    expect(parseCustomColumns('N:.items[?(@.a=="x,y")].b,M:.c').map((c) => c.header)).toEqual(['N', 'M'])
  })

  it.each(['', 'NAME', ':.a', 'NAME:', 'NAME:.items['])('refuses %j', (spec) => {
    expect(() => parseCustomColumns(spec)).toThrow(UsageError)
  })
})

describe('-o values', () => {
  it('reads every format get prints and refuses others', () => {
    expect(parseOutputFormat(undefined).type).toBe('table')
    expect(parseOutputFormat('wide').type).toBe('wide')
    expect(parseOutputFormat('jsonpath={.kind}').type).toBe('jsonpath')
    expect(parseOutputFormat('custom-columns=N:.metadata.name').type).toBe('custom-columns')
    expect(() => parseOutputFormat('jsonpath')).toThrow(/needs a template/)
    expect(() => parseOutputFormat('xml')).toThrow(/-o must be one of/)
  })
})
