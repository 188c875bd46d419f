/**
 * Who holds a heap snapshot's bytes: retained sizes over the dominator tree (Cooper, Harvey and Kennedy's
 * iterative algorithm; weak edges ignored), the largest holders with the edge names that lead to them. Where
 * heap-summary.ts says "strings and arrays", this says "the watch window's array, the OVSDB cache's Interface
 * table". Snapshot as in heap-summary.ts, or `bench/chains/run.ts --heap-snapshot DIR`.
 *
 *   npx tsx bench/chains/heap-retained.ts FILE.heapsnapshot [--top 40] [--min-mib 0.4]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '40' }, 'min-mib': { type: 'string', default: '0.4' } } })
const file = positionals[0]
if (!file) throw new Error('usage: heap-retained.ts FILE.heapsnapshot [--top 40] [--min-mib 0.4]')
interface Snapshot {
  snapshot: { meta: { node_fields: string[]; edge_fields: string[]; node_types: [string[], ...unknown[]]; edge_types: [string[], ...unknown[]] } }
  nodes: number[]
  edges: number[]
  strings: string[]
}
const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot
const { node_fields: nf, edge_fields: ef } = snap.snapshot.meta
const types = snap.snapshot.meta.node_types[0]
const etypes = snap.snapshot.meta.edge_types[0]
const { nodes, edges, strings } = snap
const [NF, EF] = [nf.length, ef.length]
const N = nodes.length / NF
const [fType, fName, fSize, fEdges] = ['type', 'name', 'self_size', 'edge_count'].map((f) => nf.indexOf(f)) as [number, number, number, number]
const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => ef.indexOf(f)) as [number, number, number]
const weak = etypes.indexOf('weak')
const firstEdge = new Int32Array(N + 1)
for (let i = 0, e = 0; i < N; i++) {
  firstEdge[i] = e
  e += nodes[i * NF + fEdges]! * EF
}
firstEdge[N] = edges.length
function forEachEdge(n: number, f: (to: number, e: number) => void): void {
  for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e += EF) if (edges[e + eType] !== weak) f(edges[e + eTo]! / NF, e)
}

// Depth-first postorder from the root (node 0), without recursion.
const post = new Int32Array(N).fill(-1)
const order: number[] = []
const next = Int32Array.from(firstEdge.subarray(0, N))
const seen = new Uint8Array(N)
const stack = [0]
seen[0] = 1
while (stack.length > 0) {
  const n = stack[stack.length - 1]!
  let descended = false
  while (next[n]! < firstEdge[n + 1]!) {
    const e = next[n]!
    next[n] = e + EF
    if (edges[e + eType] === weak) continue
    const to = edges[e + eTo]! / NF
    if (!seen[to]) {
      seen[to] = 1
      stack.push(to)
      descended = true
      break
    }
  }
  if (!descended) {
    stack.pop()
    post[n] = order.length
    order.push(n)
  }
}
const preds: number[][] = Array.from({ length: N }, () => [])
for (const n of order) forEachEdge(n, (to) => void (post[to]! >= 0 && preds[to]!.push(n)))
const idom = new Int32Array(N).fill(-1)
idom[0] = 0
const intersect = (a: number, b: number) => {
  while (a !== b) {
    while (post[a]! < post[b]!) a = idom[a]!
    while (post[b]! < post[a]!) b = idom[b]!
  }
  return a
}
for (let changed = true; changed;) {
  changed = false
  for (let k = order.length - 2; k >= 0; k--) {
    const n = order[k]!
    let d = -1
    for (const p of preds[n]!) if (idom[p] !== -1) d = d === -1 ? p : intersect(p, d)
    if (d !== -1 && idom[n] !== d) {
      idom[n] = d
      changed = true
    }
  }
}
// A dominator finishes after what it dominates, so postorder adds children before their parents.
const retained = new Float64Array(N)
for (const n of order) retained[n]! += nodes[n * NF + fSize]!
for (const n of order) if (n !== 0) retained[idom[n]!]! += retained[n]!

const label = (n: number) => `${types[nodes[n * NF + fType]!]} ${String(strings[nodes[n * NF + fName]!]).slice(0, 50)}`
/** The name of the edge from n's dominator to n, when there is one ('?' when the dominator reaches it indirectly). */
function via(n: number): string {
  let name = '?'
  forEachEdge(idom[n]!, (to, e) => {
    if (to !== n) return
    const t = etypes[edges[e + eType]!]
    name = t === 'element' || t === 'hidden' ? `[${edges[e + eName]}]` : String(strings[edges[e + eName]!])
  })
  return name
}
const MiB = 1048576
console.log(`${(retained[0]! / MiB).toFixed(1)} MiB reachable in ${order.length} nodes; largest holders (retained MiB, node, path up the dominator tree):`)
const top = order
  .filter((n) => n !== 0 && retained[n]! >= Number(values['min-mib']) * MiB)
  .sort((a, b) => retained[b]! - retained[a]!)
  .slice(0, Number(values.top))
for (const n of top) {
  const path: string[] = []
  for (let m = n, k = 0; m !== 0 && k < 5; m = idom[m]!, k++) path.push(via(m))
  console.log(`${(retained[n]! / MiB).toFixed(2).padStart(8)}  ${label(n).padEnd(45)} ${path.join(' <- ')} (in ${label(idom[n]!)})`)
}
