/**
 * Flow statistics reads (OFPMP_FLOW / OFPMP_FLOW_DESC multipart), decoded back into the same match and
 * instruction model the client encodes, so "what is installed" compares directly with "what we sent".
 */
import type { OpenFlowConnection } from './conn.js'
import type { FlowStatsEntry, Match } from './model.js'
import { OFPG_ANY, OFPP, OFPTT_ALL } from './tables/messages.js'

export interface FlowStatsFilter {
  /** One table, or all (default). */
  table?: number
  cookie?: bigint
  /** Bits of `cookie` that must match (default 0 = any cookie). */
  cookieMask?: bigint
  /** Non-strict match: flows at least as specific as this (default: all). */
  match?: Match
  outPort?: number
}

/** Every flow matching the filter, across all reply parts. */
export async function readFlowStats(conn: OpenFlowConnection, filter: FlowStatsFilter = {}, timeoutMs?: number): Promise<FlowStatsEntry[]> {
  const out: FlowStatsEntry[] = []
  await conn.multipart(
    {
      type: 'flow_stats_request',
      flags: 0,
      table: filter.table ?? OFPTT_ALL,
      outPort: filter.outPort ?? OFPP.ANY,
      outGroup: OFPG_ANY,
      cookie: filter.cookie ?? 0n,
      cookieMask: filter.cookieMask ?? 0n,
      match: filter.match ?? {},
    },
    (part) => {
      if (part.type === 'flow_stats_reply') for (const f of part.flows) out.push(f)
    },
    timeoutMs,
  )
  return out
}

export interface CookieStats {
  cookie: bigint
  flows: number
  packets: bigint
  bytes: bigint
}

/** Packet and byte counters summed over the flows carrying `cookie` (all 64 bits by default). */
export async function readCookieStats(conn: OpenFlowConnection, cookie: bigint, cookieMask = 0xffffffffffffffffn): Promise<CookieStats> {
  const flows = await readFlowStats(conn, { cookie, cookieMask })
  let packets = 0n
  let bytes = 0n
  for (const f of flows) {
    packets += f.packetCount
    bytes += f.byteCount
  }
  return { cookie, flows: flows.length, packets, bytes }
}

/** Counters per cookie for every flow whose cookie matches `cookie/cookieMask` (one read for many chains). */
export async function readStatsByCookie(conn: OpenFlowConnection, cookie = 0n, cookieMask = 0n): Promise<Map<bigint, CookieStats>> {
  const out = new Map<bigint, CookieStats>()
  for (const f of await readFlowStats(conn, { cookie, cookieMask })) {
    const s = out.get(f.cookie) ?? { cookie: f.cookie, flows: 0, packets: 0n, bytes: 0n }
    s.flows++
    s.packets += f.packetCount
    s.bytes += f.byteCount
    out.set(f.cookie, s)
  }
  return out
}
