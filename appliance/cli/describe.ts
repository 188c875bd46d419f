import type { CliCommand } from '../../api/cli.js'
import { UsageError } from '../../api/cli.js'
import { DEFAULT_NAMESPACE, type StoredObject } from '../../api/meta.js'
import type { ObjectEvent } from '../store/index.js'
import { stringify as toYaml } from 'yaml'
import { ApplianceClient, CLIENT_OPTIONS } from './client.js'
import { parseFlags } from '../../api/cli-flags.js'
import { age, formatTable } from './output.js'
import { reportError } from './report.js'
import { objectPath, resolveKind } from './resolve.js'
import { renderServiceSpec, renderServiceStatus, SERVICE_STATUS_FIELDS } from './service-views.js'

function indent(text: string, by = '  '): string {
  return (
    text
      .trimEnd()
      .split('\n')
      .map((l) => by + l)
      .join('\n') + '\n'
  )
}

function map(m: Record<string, string> | undefined): string {
  const entries = Object.entries(m ?? {})
  return entries.length === 0 ? '<none>' : entries.map(([k, v]) => `${k}=${v}`).join('\n' + ' '.repeat(18))
}

export function renderDescription(o: StoredObject, events: readonly ObjectEvent[]): string {
  const m = o.metadata
  const lines = [
    ['Name:', m.name],
    ['Namespace:', m.namespace],
    ['Kind:', o.kind],
    ['API Version:', o.apiVersion],
    ['UID:', m.uid],
    ['Generation:', String(m.generation)],
    ['Resource Version:', m.resourceVersion],
    ['Origin:', m.origin + (m.origin === 'hub' ? ' (read-only locally)' : '')],
    ['Created:', `${m.creationTimestamp} (${age(m.creationTimestamp)} ago)`],
    ['Labels:', map(m.labels)],
    ['Annotations:', map(m.annotations)],
  ]
  let out = lines.map(([k, v]) => `${k!.padEnd(18)}${v}`).join('\n') + '\n'
  const service = o.kind === 'Service' && o.apiVersion === 'svc.dpu.nvidia.com/v1alpha1'
  out += service ? renderServiceSpec(o) : 'Spec:\n' + indent(toYaml(o.spec ?? {}, { lineWidth: 0 }))
  out += 'Status:\n'
  out += `  Phase:                ${o.status?.phase ?? '<none>'}\n`
  out += `  Observed Generation:  ${o.status?.observedGeneration ?? '<none>'}\n`
  const conditions = o.status?.conditions ?? []
  if (conditions.length === 0) out += '  Conditions:           <none>\n'
  else {
    out += '  Conditions:\n'
    out += indent(formatTable([['TYPE', 'STATUS', 'REASON', 'LAST TRANSITION', 'MESSAGE'], ...conditions.map((c) => [c.type, c.status, c.reason, c.lastTransitionTime, c.message])]), '    ')
  }
  if (service) out += renderServiceStatus(o)
  const shown: readonly string[] = ['phase', 'observedGeneration', 'conditions', ...(service ? SERVICE_STATUS_FIELDS : [])]
  const rest = Object.fromEntries(Object.entries(o.status ?? {}).filter(([k]) => !shown.includes(k)))
  if (Object.keys(rest).length > 0) out += indent(toYaml(rest, { lineWidth: 0 }))
  if (events.length === 0) out += 'Events:             <none>\n'
  else {
    out += 'Events:\n'
    out += indent(formatTable([['TYPE', 'REASON', 'AGE', 'MESSAGE'], ...events.map((e) => [e.type, e.reason, age(e.time), e.message])]))
  }
  return out
}

export const describeCommand: CliCommand = {
  path: ['describe'],
  summary: 'show one object: spec, status, conditions and recent events',
  usage: `Usage: dpuctl describe KIND NAME [-n NS] [--server URL] [--token-file F]`,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { ...CLIENT_OPTIONS, namespace: { type: 'string', short: 'n' } }, 2)
    const [kindWord, name] = positionals
    if (kindWord === undefined || name === undefined) throw new UsageError('describe needs KIND and NAME')
    try {
      const kind = resolveKind(kindWord)
      const client = ApplianceClient.fromFlags(values, io)
      const namespace = values.namespace ?? DEFAULT_NAMESPACE
      const o = await client.request<StoredObject>('GET', objectPath(kind, { namespace, name }))
      const q = new URLSearchParams({ kind: kind.kind, namespace, name, limit: '10' })
      const events = await client.request<{ items: ObjectEvent[] }>('GET', `/apis/appliance/v1/events?${q}`)
      io.stdout.write(renderDescription(o, [...events.items].reverse()))
      return 0
    } catch (err) {
      return reportError(err, io)
    }
  },
}
