/** Columns that depend on the kind: `-o wide` extras read from the status the reconcilers write, and UID. */
import type { StoredObject } from '../../api/meta.js'
import { kindFor } from '../../api/resources/registry.js'

export interface WideColumns {
  header: readonly string[]
  cells(o: StoredObject): string[]
}

interface ChainStatus {
  switches?: Array<{ interfaces?: Array<string | null>; ofports?: Array<number | null>; flows?: number }>
  counters?: { flows?: number; packets?: number; bytes?: number }
}

const chainColumns: WideColumns = {
  header: ['SWITCHES', 'PORTS', 'FLOWS', 'PACKETS', 'BYTES'],
  cells(o) {
    const s = o.status as ChainStatus
    const switches = s.switches ?? []
    const total = switches.reduce((n, sw) => n + (sw.interfaces?.length ?? 0), 0)
    const resolved = switches.reduce((n, sw) => n + (sw.ofports ?? []).filter((p) => typeof p === 'number' && p > 0).length, 0)
    const flows = switches.reduce((n, sw) => n + (sw.flows ?? 0), 0)
    return [
      String(switches.length || (o.spec as { switches?: unknown[] } | null)?.switches?.length || 0),
      `${resolved}/${total}`,
      switches.length ? String(flows) : '-',
      s.counters?.packets !== undefined ? String(s.counters.packets) : '-',
      s.counters?.bytes !== undefined ? String(s.counters.bytes) : '-',
    ]
  },
}

/** What the ports loop wrote: the OVS port of the interface and what vswitchd says of it. */
interface InterfaceStatus {
  bridge?: string
  port?: string
  ofport?: number
  mac?: string
}

const interfaceColumns: WideColumns = {
  header: ['BRIDGE', 'PORT', 'OFPORT', 'MAC'],
  cells(o) {
    const s = (o.status ?? {}) as InterfaceStatus
    return [s.bridge ?? '-', s.port ?? '-', s.ofport !== undefined ? String(s.ofport) : '-', s.mac ?? '-']
  },
}

export const WIDE_COLUMNS: Readonly<Record<string, WideColumns>> = { ServiceChain: chainColumns, ServiceInterface: interfaceColumns }

/**
 * Whether the default table shows UID: for fleet objects (what an operator or the hub applies, e.g. `get dsc`),
 * whose uid is how one tells a re-created object from the one it replaced; `-o wide` shows it for every kind.
 */
export function showsUid(items: readonly StoredObject[]): boolean {
  return items.length > 0 && items.every((o) => kindFor(o.apiVersion, o.kind)?.level === 'fleet')
}

/** The wide columns for a list, if all its items are of one kind that has them. */
export function wideColumnsFor(items: readonly StoredObject[]): WideColumns | undefined {
  const kind = items[0]?.kind
  if (kind === undefined || !items.every((o) => o.kind === kind)) return undefined
  return WIDE_COLUMNS[kind]
}
