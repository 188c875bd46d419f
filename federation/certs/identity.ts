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

/** Peer certificate fields as node:tls reports them (`subjectaltname` is "URI:..., DNS:..."). */
export interface PeerCertificateLike {
  subject?: { CN?: string | string[] } | null
  subjectaltname?: string
}

/** The DPU name a certificate proves, or null if it names none. */
export function dpuNameFromCertificate(cert: PeerCertificateLike | undefined | null): string | null {
  if (!cert) return null
  const sans = (cert.subjectaltname ?? '').split(',').map((s) => s.trim())
  const uris = sans.filter((s) => s.startsWith('URI:')).map((s) => s.slice(4))
  for (const uri of uris) {
    if (uri.startsWith(DPU_URI_PREFIX)) {
      const name = uri.slice(DPU_URI_PREFIX.length)
      return DPU_NAME.test(name) ? name : null
    }
  }
  // A certificate with a URI SAN from another trust domain is not a DPU certificate, whatever its CN says.
  if (uris.length > 0) return null
  const cn = cert.subject?.CN
  const name = Array.isArray(cn) ? cn[0] : cn
  return name && DPU_NAME.test(name) ? name : null
}
