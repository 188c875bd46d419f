/** Extra `-o wide` columns per kind, read from the status the reconcilers write. */
import type { StoredObject } from '../../api/meta.js'

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

export const WIDE_COLUMNS: Readonly<Record<string, WideColumns>> = { ServiceChain: chainColumns }

/** The wide columns for a list, if all its items are of one kind that has them. */
export function wideColumnsFor(items: readonly StoredObject[]): WideColumns | undefined {
  const kind = items[0]?.kind
  if (kind === undefined || !items.every((o) => o.kind === kind)) return undefined
  return WIDE_COLUMNS[kind]
}
