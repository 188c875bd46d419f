/**
 * `GET /version`: what this appliance is, as a Kubernetes `version.Info` (the shape `kubectl version` reads), open
 * like the probes so a fleet inventory needs no token. `goVersion` carries the Node.js version: the field names
 * are Kubernetes', the runtime is ours.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Hono } from 'hono'
import { jsonContent, type JsonObject } from '../../../api/openapi.js'
import type { AppEnv } from '../env.js'
import { route } from '../route.js'

/** k8s.io/apimachinery/pkg/version.Info */
export interface VersionInfo {
  major: string
  minor: string
  gitVersion: string
  gitCommit: string
  gitTreeState: string
  buildDate: string
  goVersion: string
  compiler: string
  platform: string
}

const VersionInfoSchema: JsonObject = {
  type: 'object',
  description: 'Kubernetes version.Info; goVersion is the Node.js version and compiler is "node"',
  required: ['major', 'minor', 'gitVersion', 'gitCommit', 'gitTreeState', 'buildDate', 'goVersion', 'compiler', 'platform'],
  properties: {
    major: { type: 'string' },
    minor: { type: 'string' },
    gitVersion: { type: 'string', examples: ['v0.1.0'] },
    gitCommit: { type: 'string', description: 'Empty when the build did not record it' },
    gitTreeState: { type: 'string', enum: ['', 'clean', 'dirty'] },
    buildDate: { type: 'string', description: 'RFC 3339; empty when the build did not record it' },
    goVersion: { type: 'string', examples: ['v20.19.0'] },
    compiler: { type: 'string', const: 'node' },
    platform: { type: 'string', examples: ['linux/arm64'] },
  },
}

/** Node's `process.arch` in Go's GOARCH spelling, which `platform` uses in Kubernetes. */
const GOARCH: Readonly<Record<string, string>> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' }

/** The version in our package.json, found from this module in the sources and in `dist/` alike. */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown }
      if (pkg.name === 'dpu-appliance' && typeof pkg.version === 'string') return pkg.version
    }
    dir = dirname(dir)
  }
  return '0.0.0'
}

/**
 * This process's version.Info. XXX: the build does not stamp a commit or a date yet, so `gitCommit`,
 * `gitTreeState` and `buildDate` are empty ("unknown") unless the composition root passes them.
 */
export function readVersionInfo(build: Partial<Pick<VersionInfo, 'gitCommit' | 'gitTreeState' | 'buildDate'>> = {}): VersionInfo {
  const version = packageVersion()
  const [major = '0', minor = '0'] = version.split('.')
  return {
    major,
    minor,
    gitVersion: `v${version}`,
    gitCommit: build.gitCommit ?? '',
    gitTreeState: build.gitTreeState ?? '',
    buildDate: build.buildDate ?? '',
    goVersion: process.version,
    compiler: 'node',
    platform: `${process.platform}/${GOARCH[process.arch] ?? process.arch}`,
  }
}

export function versionRoutes(info: VersionInfo): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  route(
    app,
    {
      method: 'get',
      path: '/version',
      operation: {
        operationId: 'getVersion',
        tags: ['probes'],
        summary: 'The appliance version, as a Kubernetes version.Info',
        responses: { '200': { description: 'version.Info', content: jsonContent(VersionInfoSchema) } },
      },
    },
    (c) => c.json(info),
  )
  return app
}
