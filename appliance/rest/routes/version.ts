/**
 * `GET /version`: this appliance's build as Kubernetes `version.Info` (major, minor, gitVersion, gitCommit,
 * gitTreeState, buildDate, goVersion = the Node.js version, compiler "node", platform). Open like /healthz:
 * `dpuctl version` asks it before any token is set up.
 */
import { Hono } from 'hono'
import { readVersionInfo } from '../../../api/version-info.js'
import type { AppEnv } from '../env.js'

export function versionRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.get('/version', (c) => c.json(readVersionInfo()))
  return app
}
