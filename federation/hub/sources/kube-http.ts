/**
 * KubeTransport over node:http(s) and a minimal kubeconfig reader (current context: server, CA, client
 * certificate or bearer token; or the in-cluster service account). Used when @kubernetes/client-node cannot
 * load. Watches are newline-delimited JSON streams (the API server's watch encoding).
 */
import { readFileSync } from 'node:fs'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { KubeHttpError, kindPath, type KubeList, type KubeTransport, type KubeWatchEvent } from './kube-transport.js'

export interface KubeEndpoint {
  server: string
  ca?: Buffer
  cert?: Buffer
  key?: Buffer
  token?: string
  insecureSkipTlsVerify?: boolean
}

interface KubeconfigFile {
  'current-context'?: string
  contexts?: Array<{ name: string; context: { cluster: string; user: string } }>
  clusters?: Array<{ name: string; cluster: { server: string; 'certificate-authority'?: string; 'certificate-authority-data'?: string; 'insecure-skip-tls-verify'?: boolean } }>
  users?: Array<{ name: string; user: { token?: string; 'client-certificate'?: string; 'client-certificate-data'?: string; 'client-key'?: string; 'client-key-data'?: string } }>
}

const b64 = (s: string): Buffer => Buffer.from(s, 'base64')

/** The endpoint of the kubeconfig's current context, or the in-cluster service account. */
export function loadKubeEndpoint(kubeconfig?: string, env: NodeJS.ProcessEnv = process.env): KubeEndpoint {
  const path = kubeconfig ?? env.KUBECONFIG?.split(':')[0] ?? join(homedir(), '.kube', 'config')
  let file: KubeconfigFile | undefined
  try {
    file = parse(readFileSync(path, 'utf8')) as KubeconfigFile
  } catch {
    file = undefined
  }
  if (!file && env.KUBERNETES_SERVICE_HOST) {
    const sa = '/var/run/secrets/kubernetes.io/serviceaccount'
    return {
      server: `https://${env.KUBERNETES_SERVICE_HOST}:${env.KUBERNETES_SERVICE_PORT ?? 443}`,
      ca: readFileSync(join(sa, 'ca.crt')),
      token: readFileSync(join(sa, 'token'), 'utf8').trim(),
    }
  }
  if (!file) throw new Error(`no kubeconfig at ${path} and not running in a cluster`)
  const ctx = file.contexts?.find((c) => c.name === file['current-context'])?.context
  const cluster = file.clusters?.find((c) => c.name === ctx?.cluster)?.cluster
  const user = file.users?.find((u) => u.name === ctx?.user)?.user ?? {}
  if (!cluster) throw new Error(`kubeconfig ${path}: current context has no cluster`)
  const ep: KubeEndpoint = { server: cluster.server.replace(/\/$/, '') }
  if (cluster['certificate-authority-data']) ep.ca = b64(cluster['certificate-authority-data'])
  else if (cluster['certificate-authority']) ep.ca = readFileSync(cluster['certificate-authority'])
  if (cluster['insecure-skip-tls-verify']) ep.insecureSkipTlsVerify = true
  if (user['client-certificate-data']) ep.cert = b64(user['client-certificate-data'])
  else if (user['client-certificate']) ep.cert = readFileSync(user['client-certificate'])
  if (user['client-key-data']) ep.key = b64(user['client-key-data'])
  else if (user['client-key']) ep.key = readFileSync(user['client-key'])
  if (user.token) ep.token = user.token
  return ep
}

export function httpTransport(ep: KubeEndpoint): KubeTransport {
  const get = (path: string, query: Record<string, string>): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const url = new URL(path, ep.server)
      for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v)
      const headers: Record<string, string> = { accept: 'application/json' }
      if (ep.token) headers.authorization = `Bearer ${ep.token}`
      const opts = { method: 'GET', headers, ca: ep.ca, cert: ep.cert, key: ep.key, rejectUnauthorized: !ep.insecureSkipTlsVerify }
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, opts, resolve)
      req.on('error', reject)
      req.end()
    })
  const body = async (res: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = []
    for await (const c of res) chunks.push(c as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  }
  return {
    name: 'node:http',
    async list(kind, namespace): Promise<KubeList> {
      const res = await get(kindPath(kind, namespace), {})
      const text = await body(res)
      if (res.statusCode !== 200) throw new KubeHttpError(res.statusCode ?? 0, `list ${kind.plural}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`)
      const list = JSON.parse(text) as { metadata?: { resourceVersion?: string }; items?: unknown[] }
      return { resourceVersion: list.metadata?.resourceVersion ?? '', items: list.items ?? [] }
    },
    async watch(kind, namespace, resourceVersion, onEvent, onDone) {
      const res = await get(kindPath(kind, namespace), { watch: 'true', resourceVersion, allowWatchBookmarks: 'true' })
      if (res.statusCode !== 200) {
        const text = await body(res)
        onDone(new KubeHttpError(res.statusCode ?? 0, `watch ${kind.plural}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`))
        return { abort: () => {} }
      }
      let buf = ''
      let done = false
      const finish = (err?: unknown): void => {
        if (done) return
        done = true
        onDone(err)
      }
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buf += chunk
        let i: number
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trim()
          buf = buf.slice(i + 1)
          if (!line) continue
          try {
            onEvent(JSON.parse(line) as KubeWatchEvent)
          } catch (err) {
            res.destroy()
            finish(err)
            return
          }
        }
      })
      res.on('end', () => finish())
      res.on('error', (err) => finish(err))
      res.on('close', () => finish())
      return { abort: () => res.destroy() }
    },
  }
}
