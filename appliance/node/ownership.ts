/**
 * How the appliance marks what it owns in OVSDB, and how it recognises it. Garbage collection and drift repair
 * only ever touch rows carrying the owner marker; a foreign bridge or port is never changed or removed.
 * `dpf-id` / `dpf-type` are DPF's own join keys, kept so DPF tooling reads our ports the same way.
 */
export const OWNER_KEY = 'owner'
export const OWNER_VALUE = 'dpu-appliance'
/** Interface external_ids: `<namespace>/<ServiceInterface name>` of the object that wants the port. */
export const DPF_ID_KEY = 'dpf-id'
/** Port external_ids: `physical` protects uplinks from stale-port cleanup (DPF semantics). */
export const DPF_TYPE_KEY = 'dpf-type'
/** Interface external_ids: MAC of the endpoint behind the port (a service's interface), as OVN's attached_mac. */
export const ATTACHED_MAC_KEY = 'attached-mac'
/** Interface external_ids on the far side of a patch pair: `namespace/name` of the interface it serves. */
export const PEER_OF_KEY = 'dpf-peer-of'
/**
 * DPF's HBN port model (reference/dpf.md §3.2): the br-hbn side of an HBN patch pair names the service's host
 * interface (`hbn_rep_ofport`) and its name inside the pod (`hbn_netdev`), which HBN's nl2doca reads; the
 * br-sfc side carries `iface-id` = the host interface.
 */
export const HBN_REP_KEY = 'hbn_rep_ofport'
export const HBN_NETDEV_KEY = 'hbn_netdev'
export const IFACE_ID_KEY = 'iface-id'
/** Bridge external_ids: which role (sfc, hbn, ovn) an owned bridge plays. */
export const ROLE_KEY = 'dpu-appliance-role'

export function isOwned(row: { external_ids?: unknown } | undefined): boolean {
  const ids = row?.external_ids as Record<string, string> | undefined
  return ids?.[OWNER_KEY] === OWNER_VALUE
}

export function ownerIds(extra: Record<string, string> = {}): Record<string, string> {
  return { [OWNER_KEY]: OWNER_VALUE, ...extra }
}
