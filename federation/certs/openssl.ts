/**
 * A development PKI made with the `openssl` command line: one CA, a hub server certificate, and one client
 * certificate per DPU. ECDSA P-256 / SHA-256 as Flight Control uses. Not a production enrolment flow:
 * there is no CSR approval, rotation or revocation here.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, mkdir, rm, writeFile, chmod, access } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CertificateError } from './errors.js'
import { DPU_NAME, dpuUri, HUB_COMMON_NAME } from './identity.js'

const run = promisify(execFile)

async function openssl(args: string[], cwd?: string): Promise<void> {
  try {
    await run('openssl', args, { cwd, maxBuffer: 1 << 20 })
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? ''
    throw new CertificateError(`openssl ${args[0]} failed: ${stderr.trim() || String(err)}`, { cause: err, context: { args } })
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

async function newKey(path: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path])
  await chmod(path, 0o600)
}

/** openssl `ca` date format (UTCTime for years < 2050). */
function asn1Time(date: Date): string {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14)
  return `${iso.slice(2)}Z`
}

export interface IssueOptions {
  /** Directory holding ca.crt and ca.key. */
  caDir: string
  outDir: string
  /** File stem: writes `<stem>.crt` and `<stem>.key`. */
  stem: string
  commonName: string
  /** subjectAltName value, e.g. `URI:spiffe://...` or `DNS:localhost,IP:127.0.0.1`. */
  subjectAltName: string
  /** null: no EKU extension at all (TLS then accepts the certificate for any purpose; the hub does not). */
  extendedKeyUsage: 'clientAuth' | 'serverAuth' | 'serverAuth,clientAuth' | null
  notBefore?: Date
  notAfter?: Date
}

/** Signs a new key's certificate with the CA in caDir (openssl ca, which accepts explicit validity dates). */
export async function issueCertificate(o: IssueOptions): Promise<{ cert: string; key: string }> {
  const notBefore = o.notBefore ?? new Date(Date.now() - 60_000)
  const notAfter = o.notAfter ?? new Date(Date.now() + 365 * 86_400_000)
  const work = await mkdtemp(join(tmpdir(), 'dpu-certs-'))
  try {
    await mkdir(o.outDir, { recursive: true })
    const key = join(o.outDir, `${o.stem}.key`)
    const cert = join(o.outDir, `${o.stem}.crt`)
    await newKey(key)
    await writeFile(join(work, 'index.txt'), '')
    await writeFile(
      join(work, 'serial'),
      `${BigInt('0x' + (await import('node:crypto')).randomBytes(8).toString('hex'))
        .toString(16)
        .padStart(16, '0')}\n`,
    )
    await writeFile(
      join(work, 'ca.cnf'),
      [
        '[ca]',
        'default_ca = dev',
        '[dev]',
        `dir = ${work}`,
        'database = $dir/index.txt',
        'serial = $dir/serial',
        'new_certs_dir = $dir',
        'default_md = sha256',
        'policy = any',
        'unique_subject = no',
        'copy_extensions = none',
        '[any]',
        'commonName = supplied',
        '[ext]',
        'basicConstraints = critical,CA:FALSE',
        'keyUsage = critical,digitalSignature,keyEncipherment',
        ...(o.extendedKeyUsage ? [`extendedKeyUsage = ${o.extendedKeyUsage}`] : []),
        `subjectAltName = ${o.subjectAltName}`,
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        '',
      ].join('\n'),
    )
    await openssl(['req', '-new', '-key', key, '-subj', `/CN=${o.commonName}`, '-out', join(work, 'req.csr')])
    await openssl([
      'ca',
      '-batch',
      '-notext',
      '-config',
      join(work, 'ca.cnf'),
      '-extensions',
      'ext',
      '-cert',
      join(o.caDir, 'ca.crt'),
      '-keyfile',
      join(o.caDir, 'ca.key'),
      '-startdate',
      asn1Time(notBefore),
      '-enddate',
      asn1Time(notAfter),
      '-in',
      join(work, 'req.csr'),
      '-out',
      cert,
    ])
    return { cert, key }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/** Creates a self-signed CA (ca.crt, ca.key) in outDir. */
export async function createCa(outDir: string, { commonName = 'dpu-appliance development CA', days = 3650 } = {}): Promise<void> {
  await mkdir(outDir, { recursive: true })
  const key = join(outDir, 'ca.key')
  await newKey(key)
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    key,
    '-sha256',
    '-days',
    String(days),
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    join(outDir, 'ca.crt'),
  ])
}

/** `dpuctl certs init`: a development CA plus a hub certificate valid for localhost and 127.0.0.1. */
export async function initDevPki(outDir: string, { force = false, hubNames = [] as string[] } = {}): Promise<string[]> {
  if (!force && (await exists(join(outDir, 'ca.key')))) {
    throw new CertificateError(`${join(outDir, 'ca.key')} exists; refusing to replace a CA (use --force)`, { context: { outDir } })
  }
  await createCa(outDir)
  const san = ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1', ...hubNames.map((n) => (/^[0-9.:]+$/.test(n) ? `IP:${n}` : `DNS:${n}`))]
  await issueCertificate({
    caDir: outDir,
    outDir,
    stem: 'hub',
    commonName: HUB_COMMON_NAME,
    subjectAltName: san.join(','),
    extendedKeyUsage: 'serverAuth',
  })
  return ['ca.crt', 'ca.key', 'hub.crt', 'hub.key'].map((f) => join(outDir, f))
}

/** `dpuctl certs issue`: a client certificate naming one DPU (URI SAN and CN). */
export async function issueDpuCertificate(o: { caDir: string; outDir: string; dpu: string; days?: number; notBefore?: Date; notAfter?: Date }): Promise<{ cert: string; key: string }> {
  if (!DPU_NAME.test(o.dpu) || o.dpu.length > 253) {
    throw new CertificateError(`"${o.dpu}" is not a valid DPU name (DNS-1123 subdomain)`, { context: { dpu: o.dpu } })
  }
  const notAfter = o.notAfter ?? new Date(Date.now() + (o.days ?? 365) * 86_400_000)
  return issueCertificate({
    caDir: o.caDir,
    outDir: o.outDir,
    stem: o.dpu,
    commonName: o.dpu,
    subjectAltName: `URI:${dpuUri(o.dpu)}`,
    extendedKeyUsage: 'clientAuth',
    notAfter,
    ...(o.notBefore ? { notBefore: o.notBefore } : {}),
  })
}
