/**
 * The version of this build, in the shape of Kubernetes' `version.Info` (k8s.io/apimachinery/pkg/version), so
 * `GET /version` of an appliance reads like a kube-apiserver's and `dpuctl version` like `kubectl version`.
 * The version is package.json's; `gitCommit` is its `gitHead` (npm writes it when packing from git), else "".
 * The Go-specific fields carry their Node.js meaning: goVersion is node's version, compiler "node".
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface VersionInfo {
  major: string
  minor: string
  /** `v0.1.0` */
  gitVersion: string
  gitCommit: string
  /** "clean" or "dirty" when built from a known git tree, else "" */
  gitTreeState: string
  /** RFC 3339, "" when the build does not record it */
  buildDate: string
  /** the Node.js version (`v20.20.2`) */
  goVersion: string
  compiler: string
  /** `linux/amd64`: os/arch in Go's names */
  platform: string
}

const PACKAGE_NAME = 'dpu-appliance'
/** node's process.arch -> GOARCH */
const GOARCH: Readonly<Record<string, string>> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' }

/** package.json of this project: beside the sources (api/) or above dist/ (dist/api/). */
function readPackageJson(): { version?: string; gitHead?: string } {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    const file = join(dir, 'package.json')
    if (!existsSync(file)) continue
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string; gitHead?: string }
    if (pkg.name === PACKAGE_NAME) return pkg
  }
  return {}
}

let cached: VersionInfo | undefined

/** This build's version.Info (read once). */
export function readVersionInfo(): VersionInfo {
  if (cached) return cached
  const pkg = readPackageJson()
  const version = pkg.version ?? '0.0.0'
  const [major = '0', minor = '0'] = version.split('.')
  cached = {
    major,
    minor,
    gitVersion: `v${version}`,
    gitCommit: pkg.gitHead ?? '',
    gitTreeState: '',
    buildDate: '',
    goVersion: process.version,
    compiler: 'node',
    platform: `${process.platform}/${GOARCH[process.arch] ?? process.arch}`,
  }
  return cached
}
