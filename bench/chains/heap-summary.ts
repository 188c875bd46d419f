/**
 * Where a heap snapshot's bytes are: self size grouped by node type and constructor (the appliance started with
 * `--node-args='--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR'`, then `kill -USR2 <pid>`).
 *
 *   npx tsx bench/chains/heap-summary.ts FILE.heapsnapshot [--top 40]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '40' } } })
const file = positionals[0]
if (!file) throw new Error('usage: heap-summary.ts FILE.heapsnapshot [--top 40]')
interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } }
  nodes: number[]
  strings: string[]
}
const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot
const fields = snap.snapshot.meta.node_fields
const [typeF, nameF, sizeF] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number]
const types = snap.snapshot.meta.node_types[0]
const groups = new Map<string, { bytes: number; count: number }>()
let total = 0
for (let i = 0; i < snap.nodes.length; i += fields.length) {
  const type = types[snap.nodes[i + typeF]!]!
  const size = snap.nodes[i + sizeF]!
  // Strings and code are grouped by type only: their names are their contents.
  const key = type === 'object' || type === 'closure' ? `${type} ${snap.strings[snap.nodes[i + nameF]!]}` : type
  const g = groups.get(key) ?? { bytes: 0, count: 0 }
  g.bytes += size
  g.count += 1
  groups.set(key, g)
  total += size
}
console.log(`total self size ${(total / 1048576).toFixed(1)} MiB in ${snap.nodes.length / fields.length} nodes`)
for (const [key, g] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(values.top))) {
  console.log(`${(g.bytes / 1048576).toFixed(2).padStart(8)} MiB ${String(g.count).padStart(9)}  ${key}`)
}
