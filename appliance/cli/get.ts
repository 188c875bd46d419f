import type { CliCommand } from '../../api/cli.js'
import { UsageError } from '../../api/cli.js'
import { DEFAULT_NAMESPACE, type StoredObject } from '../../api/meta.js'
import { ApplianceClient, CLIENT_OPTIONS } from './client.js'
import { parseFlags } from '../../api/cli-flags.js'
import { asList, formatObjects, formatTable, objectRows } from './output.js'
import { reportError } from './report.js'
import { collectionPath, objectPath, resolveKind } from './resolve.js'
import { BRIDGE_WORDS, printBridges } from './switch-views.js'

export const getCommand: CliCommand = {
  path: ['get'],
  summary: 'list objects of a kind, or get one',
  usage: `Usage: dpuctl get KIND [NAME] [-n NS | -A] [-l SELECTOR] [-o json|yaml|wide|name] [--server URL] [--token-file F]

KIND is a kind, its plural, singular or short name (dsc, dsi, sc, si, ...), or "bridges" for the
observed Open vSwitch bridges (-o wide adds ports, ofports and vswitchd errors).
-o json of a list prints a List with items, as kubectl does.`,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        ...CLIENT_OPTIONS,
        namespace: { type: 'string', short: 'n' },
        'all-namespaces': { type: 'boolean', short: 'A' },
        selector: { type: 'string', short: 'l' },
        output: { type: 'string', short: 'o' },
      },
      2,
    )
    const [kindWord, name] = positionals
    if (kindWord === undefined) throw new UsageError('get needs a KIND')
    const output = values.output ?? 'table'
    if (!['table', 'wide', 'json', 'yaml', 'name'].includes(output)) throw new UsageError(`-o must be json, yaml, wide or name, got "${output}"`)
    if (values['all-namespaces'] && values.namespace !== undefined) throw new UsageError('-n and -A cannot be combined')
    if (values['all-namespaces'] && name !== undefined) throw new UsageError('a NAME cannot be combined with -A')
    try {
      if (BRIDGE_WORDS.has(kindWord)) return await printBridges(ApplianceClient.fromFlags(values, io), name, output, io)
      const kind = resolveKind(kindWord)
      const client = ApplianceClient.fromFlags(values, io)
      const namespace = values['all-namespaces'] ? undefined : (values.namespace ?? DEFAULT_NAMESPACE)
      let items: StoredObject[]
      let single: StoredObject | undefined
      let resourceVersion = ''
      if (name !== undefined) {
        single = await client.request<StoredObject>('GET', objectPath(kind, { namespace: namespace!, name }))
        items = [single]
      } else {
        const q = values.selector ? `?labelSelector=${encodeURIComponent(values.selector)}` : ''
        const list = await client.request<{ items: StoredObject[]; metadata?: { resourceVersion?: string } }>('GET', `${collectionPath(kind, namespace)}${q}`)
        items = list.items
        resourceVersion = list.metadata?.resourceVersion ?? ''
      }
      if (output === 'json' || output === 'yaml') {
        io.stdout.write(formatObjects(single ?? asList(items, resourceVersion), output))
      } else if (output === 'name') {
        for (const o of items) io.stdout.write(`${kind.singular}.${kind.group}/${o.metadata.name}\n`)
      } else if (items.length === 0) {
        io.stderr.write(namespace === undefined ? `No resources found\n` : `No resources found in ${namespace} namespace.\n`)
      } else {
        io.stdout.write(formatTable(objectRows(items, { wide: output === 'wide', allNamespaces: namespace === undefined })))
      }
      return 0
    } catch (err) {
      return reportError(err, io)
    }
  },
}
