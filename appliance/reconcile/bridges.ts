/**
 * Bridge ownership: the bridges the appliance owns (br-sfc, br-hbn, br-ovn by default) exist with the configured
 * datapath, fail_mode (secure on the chaining bridges: an unchained port must pass nothing), MTU and owner
 * marker, and `Open_vSwitch.other_config` carries the keys the configuration and the active DPUFlavor ask for.
 *
 * Desired vs observed, then the minimal change in one OVSDB transaction. Runs on every OVSDB change (the monitor
 * cache), so a bridge deleted by hand or a setting changed by someone else is repaired within one pass; it never
 * touches a bridge or port without the owner marker except to adopt a bridge by its configured name.
 */
import type { TableCache, TransactionBuilder } from '../ovs/ovsdb/index.js'
import { whereName, whereUuid } from '../ovs/ovsdb/index.js'
import { isOwned, OWNER_KEY, OWNER_VALUE, ownerIds, ROLE_KEY } from '../node/ownership.js'

export type BridgeRole = 'sfc' | 'hbn' | 'ovn'

export interface DesiredBridge {
  name: string
  role: BridgeRole
  datapathType: string
  /** `secure` on the chaining bridges; null leaves OVS's default (standalone) for br-ovn, which OVN-K manages. */
  failMode: 'secure' | null
  mtu?: number
}

export interface DesiredSwitch {
  bridges: DesiredBridge[]
  otherConfig: Record<string, string>
}

export interface SwitchSettings {
  bridges: { sfc: string; hbn: string; ovn: string }
  datapath: string
  mtu?: number
  otherConfig: Record<string, string>
  /** Passed on to the ports pass (`PortSettings.serviceNetnsPrefix`). */
  serviceNetnsPrefix?: string
}

/** The bridges and other_config this node should have: configuration first, then the flavor's OVS keys. */
export function computeDesiredSwitch(settings: SwitchSettings, flavorOtherConfig: Record<string, string> = {}): DesiredSwitch {
  const bridge = (role: BridgeRole, failMode: 'secure' | null): DesiredBridge => ({
    name: settings.bridges[role],
    role,
    datapathType: settings.datapath,
    failMode,
    ...(settings.mtu !== undefined ? { mtu: settings.mtu } : {}),
  })
  return {
    bridges: [bridge('sfc', 'secure'), bridge('hbn', 'secure'), bridge('ovn', null)],
    // The configuration wins over the flavor for the same key.
    otherConfig: { ...flavorOtherConfig, ...settings.otherConfig },
  }
}

/**
 * `other_config:key=value` settings in a DPUFlavor's `ovs.rawConfigScript`. The appliance never runs the script;
 * it takes the Open_vSwitch keys it sets (hw-offload, doca-init, max-idle, ...) and owns them declaratively.
 */
export function flavorOtherConfig(rawConfigScript: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!rawConfigScript) return out
  for (const m of rawConfigScript.matchAll(/other[_-]config:([A-Za-z0-9_-]+)=("([^"]*)"|'([^']*)'|([^\s;"'`$]+))/g)) {
    out[m[1]!] = m[3] ?? m[4] ?? m[5] ?? ''
  }
  return out
}

/**
 * `Bridge.protocols` names the OpenFlow versions vswitchd accepts on the bridge; the appliance speaks 1.4 or 1.5
 * (`SUPPORTED_VERSIONS`). A set without either locks it out for good, so such a value is put back to the default
 * (empty: every version OVS supports). A set that still includes one of ours is someone's choice and is kept.
 */
const SPOKEN_PROTOCOLS = ['OpenFlow14', 'OpenFlow15'] as const

export function protocolsLockUsOut(protocols: readonly string[]): boolean {
  return protocols.length > 0 && !SPOKEN_PROTOCOLS.some((p) => protocols.includes(p))
}

/**
 * Bridge columns whose change makes ovs-vswitchd drop the bridge's flows (reconfiguring fail_mode, the datapath,
 * the controllers or the OpenFlow versions rebuilds the bridge's ofproto state): after one, the flows are re-read.
 */
export const FLOW_CLEARING_COLUMNS = ['fail_mode', 'datapath_type', 'controller', 'protocols'] as const

function failModeOf(row: { fail_mode?: unknown }): string | null {
  return typeof row.fail_mode === 'string' && row.fail_mode !== '' ? row.fail_mode : null
}

/**
 * Adds to `txn` the operations that turn the observed switch into the desired one; returns what they change
 * (empty: nothing to do, the transaction stays empty).
 */
export function planSwitch(desired: DesiredSwitch, cache: TableCache, txn: TransactionBuilder): string[] {
  const changes: string[] = []
  const root = cache.openVSwitch()
  if (!root) return changes // an uninitialised database: `ovs-vsctl init` (or vswitchd) creates the row
  for (const want of desired.bridges) {
    const have = cache.bridge(want.name)
    if (!have) {
      const iface = txn.insert('Interface', {
        name: want.name,
        type: 'internal',
        external_ids: ownerIds(),
        ...(want.mtu !== undefined ? { mtu_request: want.mtu } : {}),
      })
      const port = txn.insert('Port', { name: want.name, interfaces: [iface], external_ids: ownerIds() })
      const br = txn.insert('Bridge', {
        name: want.name,
        ports: [port],
        datapath_type: want.datapathType,
        fail_mode: want.failMode,
        external_ids: ownerIds({ [ROLE_KEY]: want.role }),
      })
      txn.mutate('Open_vSwitch', whereUuid(root._uuid), [['bridges', 'insert', [br]]])
      changes.push(`create bridge ${want.name} (${want.datapathType}${want.failMode ? `, fail_mode=${want.failMode}` : ''})`)
      continue
    }
    const update: Record<string, string | null | string[]> = {}
    if (have.datapath_type !== want.datapathType) update.datapath_type = want.datapathType
    if (failModeOf(have) !== want.failMode) update.fail_mode = want.failMode
    if (protocolsLockUsOut(have.protocols)) update.protocols = []
    if (Object.keys(update).length > 0) {
      txn.update('Bridge', whereUuid(have._uuid), update)
      const show = (v: string | null | string[]) => (v === null ? '[]' : Array.isArray(v) ? `[${v.join(',')}]` : v)
      changes.push(
        `bridge ${want.name}: ${Object.entries(update)
          .map(([k, v]) => `${k}=${show(v)}`)
          .join(', ')}`,
      )
    }
    const ids = have.external_ids
    if (ids[OWNER_KEY] !== OWNER_VALUE || ids[ROLE_KEY] !== want.role) {
      // A bridge of a configured name is ours by declaration (a flavor script may have created it): adopt it.
      txn.mutate('Bridge', whereUuid(have._uuid), [
        ['external_ids', 'delete', [OWNER_KEY, ROLE_KEY]],
        ['external_ids', 'insert', { [OWNER_KEY]: OWNER_VALUE, [ROLE_KEY]: want.role }],
      ])
      changes.push(`${isOwned(have) ? 'mark' : 'adopt'} bridge ${want.name} (role ${want.role})`)
    }
    if (want.mtu !== undefined) {
      const local = cache.interface(want.name)
      if (local && local.mtu_request !== want.mtu) {
        txn.update('Interface', whereName(want.name), { mtu_request: want.mtu })
        changes.push(`bridge ${want.name}: mtu_request=${want.mtu}`)
      }
    }
  }
  const other = root.other_config
  const stale = Object.entries(desired.otherConfig).filter(([k, v]) => other[k] !== v)
  if (stale.length > 0) {
    // RFC 7047 map insert keeps an existing key's value: delete the keys first, then insert the new pairs.
    txn.mutate('Open_vSwitch', whereUuid(root._uuid), [
      ['other_config', 'delete', stale.map(([k]) => k)],
      ['other_config', 'insert', Object.fromEntries(stale)],
    ])
    changes.push(`other_config: ${stale.map(([k, v]) => `${k}=${v}`).join(', ')}`)
  }
  return changes
}

export interface ObservedBridge {
  name: string
  owned: boolean
  role?: string
  datapathType: string
  failMode: string | null
  ports: Array<{ name: string; ofport: number | null; type: string; error: string | null; dpfId?: string }>
  /** Interface errors reported by vswitchd on this bridge (ovs-vsctl hides these). */
  problems: string[]
}

/** What `dpuctl get bridges` shows: every bridge in OVSDB, ours marked, with per-port vswitchd errors. */
export function readObservedBridges(cache: TableCache): ObservedBridge[] {
  return cache
    .bridges()
    .map((b) => {
      const ports = cache.portsOf(b).flatMap((p) =>
        cache.interfacesOf(p).map((i) => ({
          name: i.name,
          ofport: i.ofport,
          type: i.type,
          error: i.error,
          ...(i.external_ids['dpf-id'] ? { dpfId: i.external_ids['dpf-id'] } : {}),
        })),
      )
      ports.sort((x, y) => x.name.localeCompare(y.name))
      return {
        name: b.name,
        owned: isOwned(b),
        ...(b.external_ids[ROLE_KEY] ? { role: b.external_ids[ROLE_KEY] } : {}),
        datapathType: b.datapath_type,
        failMode: failModeOf(b),
        ports,
        problems: ports.filter((p) => p.error).map((p) => `${p.name}: ${p.error}`),
      }
    })
    .sort((a, b) => a.name.localeCompare(b.name))
}
