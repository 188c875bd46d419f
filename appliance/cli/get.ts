import type { CliCommand } from '../../api/cli.js'
import { UsageError } from '../../api/cli.js'
import { parseFlags } from '../../api/cli-flags.js'
import { DEFAULT_NAMESPACE, type StoredObject } from '../../api/meta.js'
import type { KindInfo } from '../../api/resources/kind.js'
import { ApplianceClient, CLIENT_OPTIONS } from './client.js'
import { parseOutputFormat } from './output-format.js'
import { renderObjects, type KindObjects } from './print-objects.js'
import { reportError } from './report.js'
import { collectionPath, objectPath, resolveKinds } from './resolve.js'
import { BRIDGE_WORDS, printBridges } from './switch-views.js'
import { watchObjects } from './watch.js'

/** One kind's objects: the list (with the selector), or the one named. */
async function fetchKind(client: ApplianceClient, kind: KindInfo, namespace: string | undefined, name: string | undefined, selector: string | undefined): Promise<KindObjects> {
  if (name !== undefined) {
    const single = await client.request<StoredObject>('GET', objectPath(kind, { namespace: namespace ?? DEFAULT_NAMESPACE, name }))
    return { kind, items: [single], resourceVersion: single.metadata.resourceVersion, single }
  }
  const q = selector ? `?labelSelector=${encodeURIComponent(selector)}` : ''
  const list = await client.request<{ items: StoredObject[]; metadata?: { resourceVersion?: string } }>('GET', `${collectionPath(kind, namespace)}${q}`)
  return { kind, items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' }
}

export const getCommand: CliCommand = {
  path: ['get'],
  summary: 'list objects of one or more kinds, or get one; -w follows changes',
  usage: `Usage: dpuctl get KIND[,KIND...] [NAME] [-n NS | -A] [-l SELECTOR] [-o FORMAT] [--no-headers] [-w | --watch-only]
                  [--server URL] [--token-file F]

KIND is a kind, its plural, singular or short name (dsc, dsi, sc, si, ...), optionally with .group
(sc.svc.dpu.nvidia.com); several kinds separated by commas print one table each, names as kind.group/name.
"bridges" lists the observed Open vSwitch bridges (-o wide adds ports, ofports and vswitchd errors).
FORMAT: wide, json, yaml, name, custom-columns=HEADER:PATH[,...], jsonpath=TEMPLATE (kubectl syntax, e.g.
  -o jsonpath='{range .items[*]}{.metadata.name}{"\\n"}{end}'). -o json of a list prints a List, as kubectl does.
  -w, --watch       print the current objects, then each change as it happens (Ctrl-C stops)
  --watch-only      print only the changes
  --no-headers      tables without their header line`,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        ...CLIENT_OPTIONS,
        namespace: { type: 'string', short: 'n' },
        'all-namespaces': { type: 'boolean', short: 'A' },
        selector: { type: 'string', short: 'l' },
        output: { type: 'string', short: 'o' },
        'no-headers': { type: 'boolean' },
        watch: { type: 'boolean', short: 'w' },
        'watch-only': { type: 'boolean' },
      },
      2,
    )
    const [kindWords, name] = positionals
    if (kindWords === undefined) throw new UsageError('get needs a KIND')
    const format = parseOutputFormat(values.output)
    const noHeaders = values['no-headers'] === true
    const watch = values.watch === true || values['watch-only'] === true
    if (values['all-namespaces'] && values.namespace !== undefined) throw new UsageError('-n and -A cannot be combined')
    if (values['all-namespaces'] && name !== undefined) throw new UsageError('a NAME cannot be combined with -A')
    try {
      if (BRIDGE_WORDS.has(kindWords)) {
        if (watch) throw new UsageError('bridges cannot be watched; use watch -n 1 dpuctl get bridges')
        if (format.type !== 'table' && format.type !== 'wide' && format.type !== 'json' && format.type !== 'yaml') throw new UsageError('bridges print as a table, -o wide, json or yaml')
        return await printBridges(ApplianceClient.fromFlags(values, io), name, format.type, io, { noHeaders })
      }
      const kinds = resolveKinds(kindWords)
      const client = ApplianceClient.fromFlags(values, io)
      const namespace = values['all-namespaces'] ? undefined : (values.namespace ?? DEFAULT_NAMESPACE)
      if (watch) {
        if (kinds.length > 1) throw new UsageError('-w watches one kind at a time')
        return await watchObjects(client, { kind: kinds[0]!, namespace, selector: values.selector, name, format, noHeaders, watchOnly: values['watch-only'] === true }, io)
      }
      const fetched: KindObjects[] = []
      for (const kind of kinds) fetched.push(await fetchKind(client, kind, namespace, name, values.selector))
      const out = renderObjects(fetched, format, { namespace, noHeaders })
      io.stdout.write(out.stdout)
      io.stderr.write(out.stderr)
      return 0
    } catch (err) {
      return reportError(err, io)
    }
  },
}
