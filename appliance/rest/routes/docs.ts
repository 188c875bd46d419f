/**
 * `/docs`: Swagger UI, served from the `swagger-ui-dist` package's own files so it works on an appliance with no
 * internet access, rendering `/openapi.json` with an Authorize button for the bearer token. The page is open; the
 * document it loads needs the token unless the appliance runs with `--public-metrics`, and what it calls under
 * `/apis` needs the token the user enters.
 *
 * Nothing leaves the appliance: the page and assets are ours or the package's, the validator badge (which would
 * send the document to validator.swagger.io) is off, and the page's Content-Security-Policy lets the browser
 * fetch from this origin only. URLs are relative, so the explorer also works behind a path-prefixing proxy.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Hono } from 'hono'
import { problemResponses } from '../../../api/openapi.js'
import type { AppEnv } from '../env.js'
import { RouteNotFoundError } from '../errors.js'
import { route } from '../route.js'

/** Our Swagger UI configuration: a file, not an inline script, so the CSP can forbid inline scripts. */
const INIT_SCRIPT = `'use strict';
(function () {
  var root = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: new URL(root.getAttribute('data-spec-url'), document.baseURI).href,
    domNode: root,
    validatorUrl: null,
    deepLinking: true,
    displayOperationId: true,
    displayRequestDuration: true,
    docExpansion: 'list',
    filter: true,
    persistAuthorization: false,
    tryItOutEnabled: false
  });
})();
`

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dpu-appliance API</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
<link rel="icon" type="image/png" href="docs/favicon-32x32.png">
</head>
<body>
<noscript>The API explorer needs JavaScript; the document itself is at <a href="openapi.json">openapi.json</a>.</noscript>
<div id="swagger-ui" data-spec-url="openapi.json"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
`

/**
 * Same origin only. Swagger UI sets style attributes and injects style elements at run time, hence
 * 'unsafe-inline' for styles (never for scripts); its icons are data: URIs.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

/** The assets the page loads: from swagger-ui-dist by file name, or ours. Anything else under /docs is a 404. */
const ASSETS = {
  'swagger-ui-bundle.js': { type: 'text/javascript; charset=utf-8', source: 'package' },
  'swagger-ui.css': { type: 'text/css; charset=utf-8', source: 'package' },
  'favicon-32x32.png': { type: 'image/png', source: 'package' },
  'init.js': { type: 'text/javascript; charset=utf-8', source: INIT_SCRIPT },
} as const satisfies Record<string, { type: string; source: string }>
type AssetName = keyof typeof ASSETS

const isAsset = (name: string): name is AssetName => Object.hasOwn(ASSETS, name)

interface LoadedAsset {
  body: Uint8Array<ArrayBuffer>
  etag: string
}

function swaggerUiDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
}

export function docsRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  // Read on first use and kept (~2 MB): most appliances never serve the explorer.
  const loaded = new Map<AssetName, Promise<LoadedAsset>>()
  const load = (name: AssetName): Promise<LoadedAsset> => {
    let p = loaded.get(name)
    if (!p) {
      const source = ASSETS[name].source
      p = (source === 'package' ? readFile(join(swaggerUiDir(), name)) : Promise.resolve(Buffer.from(source))).then((bytes) => ({
        body: new Uint8Array(bytes),
        etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`,
      }))
      // A failed read (a broken installation) is not cached, so it is retried and logged on each request.
      p.catch(() => loaded.delete(name))
      loaded.set(name, p)
    }
    return p
  }

  route(
    app,
    {
      method: 'get',
      path: '/docs',
      operation: {
        operationId: 'getDocs',
        tags: ['docs'],
        summary: 'API explorer (Swagger UI) for this document; works offline',
        responses: { '200': { description: 'The explorer page', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    },
    (c) => c.html(PAGE, 200, { 'content-security-policy': CSP, 'x-content-type-options': 'nosniff' }),
  )

  route(
    app,
    {
      method: 'get',
      path: '/docs/:asset',
      operation: {
        operationId: 'getDocsAsset',
        tags: ['docs'],
        summary: "A script, style sheet or icon of the explorer (Swagger UI's own files, and its configuration)",
        parameters: [{ name: 'asset', in: 'path', required: true, schema: { type: 'string', enum: Object.keys(ASSETS) } }],
        responses: {
          '200': {
            description: 'The asset, revalidated by ETag',
            content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } }, 'image/png': { schema: { type: 'string', contentMediaType: 'image/png' } } },
          },
          '304': { description: 'Not modified (If-None-Match)' },
          ...problemResponses('404'),
        },
      },
    },
    async (c) => {
      const name = c.req.param('asset')
      if (!isAsset(name)) throw new RouteNotFoundError(c.req.method, c.req.path)
      const asset = await load(name)
      // no-cache: always revalidate (the files change with an upgrade, their URLs do not), but a 304 costs no body.
      const headers = { etag: asset.etag, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' }
      if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers)
      return c.body(asset.body, 200, { ...headers, 'content-type': ASSETS[name].type })
    },
  )
  return app
}
