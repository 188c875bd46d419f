import type { CliCommand } from '../../api/cli.js'
import { UsageError } from '../../api/cli.js'
import { DEFAULT_NAMESPACE, type ObjectRef, type StoredObject } from '../../api/meta.js'
import { ApplianceClient, CLIENT_OPTIONS } from './client.js'
import { parseFlags } from '../../api/cli-flags.js'
import { readManifests, type ManifestDocument } from './manifests.js'
import { reportError } from './report.js'
import { kindLabel, objectPath, resolveKind } from './resolve.js'

export const deleteCommand: CliCommand = {
  path: ['delete'],
  summary: 'delete an object by kind and name, or every object in files (all-or-nothing)',
  usage: `Usage: dpuctl delete KIND NAME [-n NS] [--server URL] [--token-file F]
       dpuctl delete -f FILE|DIR|- [-n NS] [--ignore-not-found]

Deleting a fleet DPUServiceInterface/DPUServiceChain also deletes the node objects rendered from it.`,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      { ...CLIENT_OPTIONS, namespace: { type: 'string', short: 'n' }, filename: { type: 'string', short: 'f', multiple: true }, 'ignore-not-found': { type: 'boolean' } },
      2,
    )
    const files = values.filename ?? []
    if (files.length > 0 && positionals.length > 0) throw new UsageError('give either KIND NAME or -f, not both')
    if (files.length === 0 && positionals.length !== 2) throw new UsageError('delete needs KIND NAME or -f FILE')
    let docs: ManifestDocument[] = []
    try {
      const client = ApplianceClient.fromFlags(values, io)
      if (files.length > 0) {
        docs = await readManifests(files, io, values.namespace)
        if (docs.length === 0) throw new UsageError('no objects found in the given files')
        const q = values['ignore-not-found'] ? '?ignoreNotFound=true' : ''
        const res = await client.request<{ items: { action: string; source: string; ref: ObjectRef }[] }>('POST', `/apis/appliance/v1/delete${q}`, {
          apiVersion: 'v1',
          kind: 'List',
          items: docs.map((d) => d.value),
        })
        for (const i of res.items) {
          io.stdout.write(`${kindLabel(i.ref)} "${i.ref.name}" ${i.action === 'deleted' ? 'deleted' : i.action}${i.source === 'pruned' ? ' (rendered)' : ''}\n`)
        }
        return 0
      }
      const kind = resolveKind(positionals[0]!)
      const o = await client.request<StoredObject>('DELETE', objectPath(kind, { namespace: values.namespace ?? DEFAULT_NAMESPACE, name: positionals[1]! }))
      io.stdout.write(`${kindLabel(o)} "${o.metadata.name}" deleted\n`)
      return 0
    } catch (err) {
      return reportError(err, io, docs)
    }
  },
}
