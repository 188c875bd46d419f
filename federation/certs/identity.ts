/**
 * How a DPU's identity is written into its certificate: a SPIFFE-like URI SAN
 * `spiffe://dpu-appliance/dpu/<name>` (preferred) with the same name as CN (fallback for certificates made
 * by other tooling). The hub takes identity only from here, never from message fields.
 */
export const SPIFFE_TRUST_DOMAIN = 'dpu-appliance'
/** The common name of the hub certificate `dpuctl certs init` issues. */
export const HUB_COMMON_NAME = 'dpu-federation-hub'
export const DPU_URI_PREFIX = `spiffe://${SPIFFE_TRUST_DOMAIN}/dpu/`

/** DNS-1123 subdomain, as Kubernetes node names. */
export const DPU_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

export function dpuUri(name: string): string {
  return `${DPU_URI_PREFIX}${name}`
}

/** The clientAuth extended key usage (RFC 5280 id-kp-clientAuth). */
export const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2'

/** Peer certificate fields as node:tls reports them (`subjectaltname` is "URI:..., DNS:..."). */
export interface PeerCertificateLike {
  subject?: { CN?: string | string[] } | null
  subjectaltname?: string
  /** Extended key usage OIDs; absent when the certificate has no EKU extension. */
  ext_key_usage?: string[]
}

export type CertificateIdentity = { ok: true; name: string } | { ok: false; reason: string }

/**
 * The DPU a client certificate proves, or why it proves none. Rules (stricter than TLS itself, which accepts
 * a certificate with no EKU for any purpose):
 * - the certificate must carry the clientAuth EKU;
 * - exactly one `spiffe://dpu-appliance/dpu/<name>` URI SAN: two are ambiguous and refused, never "the first";
 * - a URI SAN from another trust domain means the certificate is not a DPU's, whatever its CN says;
 * - with no URI SAN at all, the CN may name the DPU. Decision: kept, because certificates made by other
 *   tooling (a site CA issuing `CN=<node>` client certificates) carry no SPIFFE URI; the CN must still be a
 *   DNS-1123 name and the certificate still needs clientAuth, and DPF and Flight Control style certificates
 *   (URI SAN) always take precedence.
 */
export function identifyDpu(cert: PeerCertificateLike | undefined | null): CertificateIdentity {
  if (!cert || (!cert.subject && !cert.subjectaltname)) return { ok: false, reason: 'no client certificate' }
  if (!cert.ext_key_usage?.includes(CLIENT_AUTH_OID)) return { ok: false, reason: 'client certificate lacks the clientAuth extended key usage' }
  const sans = (cert.subjectaltname ?? '').split(',').map((s) => s.trim())
  const uris = sans.filter((s) => s.startsWith('URI:')).map((s) => s.slice(4))
  const dpuUris = uris.filter((u) => u.startsWith(DPU_URI_PREFIX))
  if (dpuUris.length > 1) return { ok: false, reason: `client certificate names ${dpuUris.length} DPUs` }
  if (dpuUris.length === 1) {
    const name = dpuUris[0]!.slice(DPU_URI_PREFIX.length)
    return DPU_NAME.test(name) ? { ok: true, name } : { ok: false, reason: `client certificate URI names an invalid DPU "${name}"` }
  }
  if (uris.length > 0) return { ok: false, reason: 'client certificate URI SAN is not a DPU identity' }
  const cn = cert.subject?.CN
  if (Array.isArray(cn) && cn.length > 1) return { ok: false, reason: 'client certificate has several common names' }
  const name = Array.isArray(cn) ? cn[0] : cn
  return name && DPU_NAME.test(name) ? { ok: true, name } : { ok: false, reason: 'client certificate names no DPU' }
}

/** The DPU name a certificate proves, or null if it names none (no EKU check: see identifyDpu for the hub's rule). */
export function dpuNameFromCertificate(cert: PeerCertificateLike | undefined | null): string | null {
  if (!cert) return null
  const r = identifyDpu({ ...cert, ext_key_usage: [CLIENT_AUTH_OID] })
  return r.ok ? r.name : null
}
