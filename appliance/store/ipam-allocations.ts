/**
 * Addresses handed to service interfaces from DPUServiceIPAM pools: one row per (pool, interface), the pool being
 * the DPUServiceIPAM's `namespace/name` and the interface its `dpf-id` (`namespace/name` of the ServiceInterface).
 * Written by the ports pass when an interface that asks for IPAM has no address yet, kept across appliance restarts
 * (the same interface gets the same address back), and released by the ports pass when the interface is deleted,
 * stops asking, moves to another pool, or its address left the pool's block for this node. An address is unique
 * within its pool (`UNIQUE (pool, address)`), so two interfaces can never be handed the same one.
 */
import type { Database, Statement } from 'better-sqlite3'

export interface IpamAllocation {
  pool: string
  interface: string
  address: string
  createdAt: string
}

interface Row {
  pool: string
  interface: string
  address: string
  created_at: string
}

const toAllocation = (r: Row): IpamAllocation => ({ pool: r.pool, interface: r.interface, address: r.address, createdAt: r.created_at })

export class IpamAllocationTable {
  readonly #get: Statement
  readonly #taken: Statement
  readonly #insert: Statement
  readonly #release: Statement
  readonly #all: Statement
  readonly #allocate: (pool: string, iface: string, candidates: Iterable<string>) => IpamAllocation | undefined

  constructor(db: Database) {
    this.#get = db.prepare(`SELECT pool, interface, address, created_at FROM ipam_allocations WHERE pool = ? AND interface = ?`)
    this.#taken = db.prepare(`SELECT address FROM ipam_allocations WHERE pool = ?`).pluck()
    this.#insert = db.prepare(`INSERT INTO ipam_allocations (pool, interface, address, created_at) VALUES (?, ?, ?, ?)`)
    this.#release = db.prepare(`DELETE FROM ipam_allocations WHERE pool = ? AND interface = ?`)
    this.#all = db.prepare(`SELECT pool, interface, address, created_at FROM ipam_allocations ORDER BY pool, interface`)
    // One transaction: the read of taken addresses and the insert cannot interleave with another allocation.
    this.#allocate = db.transaction((pool: string, iface: string, candidates: Iterable<string>) => {
      const existing = this.#get.get(pool, iface) as Row | undefined
      if (existing) return toAllocation(existing)
      const taken = new Set(this.#taken.all(pool) as string[])
      for (const address of candidates) {
        if (taken.has(address)) continue
        const createdAt = new Date().toISOString()
        this.#insert.run(pool, iface, address, createdAt)
        return { pool, interface: iface, address, createdAt }
      }
      return undefined
    })
  }

  /** The address `iface` holds in `pool`, if any. */
  get(pool: string, iface: string): IpamAllocation | undefined {
    const row = this.#get.get(pool, iface) as Row | undefined
    return row ? toAllocation(row) : undefined
  }

  /**
   * The address `iface` holds in `pool`, or the first of `candidates` (in order) that no other interface holds,
   * recorded before it is returned; undefined when every candidate is taken (the pool's block is exhausted).
   */
  allocate(pool: string, iface: string, candidates: Iterable<string>): IpamAllocation | undefined {
    return this.#allocate(pool, iface, candidates)
  }

  /** Gives the address of `iface` in `pool` back; true if it held one. */
  release(pool: string, iface: string): boolean {
    return this.#release.run(pool, iface).changes > 0
  }

  /** Every allocation, by pool then interface. */
  list(): IpamAllocation[] {
    return (this.#all.all() as Row[]).map(toAllocation)
  }
}
