/**
 * `GET /version`: what this appliance is, as a Kubernetes `version.Info` (the shape `kubectl version` reads), open
 * like the probes so a fleet inventory needs no token. `goVersion` carries the Node.js version: the field names
 * are Kubernetes', the runtime is ours (`api/version-info.ts`, which `dpuctl version` reads too).
 */
import { Hono } from 'hono'
import { jsonContent, type JsonObject } from '../../../api/openapi.js'
import type { AppEnv } from '../env.js'
import { route } from '../route.js'
import type { VersionInfo } from '../../../api/version-info.js'

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
