/**
 * `/openapi.json`: the OpenAPI 3.1 document generated from the routes the app serves (`buildApplianceOpenApi`),
 * built on the first request, when every route is registered, and kept: routes do not change after `createApp`.
 * `/docs`: a self-contained page that renders it (no CDN: appliances are often offline).
 */
import { Hono } from 'hono'
import type { RouterRoute } from 'hono/types'
import { jsonContent } from '../../../api/openapi.js'
import type { AppEnv } from '../env.js'
import { buildApplianceOpenApi } from '../openapi.js'
import { route } from '../route.js'

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dpu-appliance API</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#222}
code,pre{font:12px ui-monospace,monospace}pre{background:#f5f5f5;padding:.6rem;overflow:auto;max-height:30rem}
.op{border:1px solid #ddd;border-radius:4px;margin:.4rem 0}.op summary{padding:.4rem;cursor:pointer}
.m{display:inline-block;min-width:4.5rem;font-weight:600}.get{color:#06c}.put{color:#a60}.post{color:#080}.delete{color:#c00}
</style></head><body>
<h1>dpu-appliance local API</h1>
<p>Every <code>/apis</code> request needs <code>Authorization: Bearer &lt;token&gt;</code> (the appliance's
<code>&lt;data-dir&gt;/token</code>). Errors are RFC 9457 <code>application/problem+json</code>. Raw document:
<a href="/openapi.json">/openapi.json</a>.</p>
<div id="ops">loading /openapi.json...</div>
<script>
fetch('/openapi.json').then(r=>r.json()).then(doc=>{
  const root=document.getElementById('ops');root.textContent='';
  const h=(t,txt,cls)=>{const e=document.createElement(t);if(txt!==undefined)e.textContent=txt;if(cls)e.className=cls;return e};
  root.append(h('h2',(doc.info&&doc.info.title||'API')+' '+(doc.info&&doc.info.version||'')));
  for(const [path,item] of Object.entries(doc.paths||{})){
    for(const [method,op] of Object.entries(item)){
      if(typeof op!=='object'||!op||!('responses' in op||'summary' in op))continue;
      const d=h('details',undefined,'op');const s=h('summary');
      s.append(h('span',method.toUpperCase(),'m '+method),h('code',path),document.createTextNode(' '+(op.summary||'')));
      d.append(s,h('pre',JSON.stringify(op,null,2)));root.append(d);
    }
  }
  root.append(h('h2','Schemas'));
  for(const [name,schema] of Object.entries((doc.components&&doc.components.schemas)||{})){
    const d=h('details',undefined,'op');d.append(h('summary',name),h('pre',JSON.stringify(schema,null,2)));root.append(d);
  }
}).catch(e=>{document.getElementById('ops').textContent='cannot load /openapi.json: '+e});
</script></body></html>`

export interface OpenApiRoutesOptions {
  /** The routes of the whole app, read once they are all registered. */
  routes: () => readonly RouterRoute[]
  /** `info.version` of the document: the appliance's version. */
  version?: string
}

export function openApiRoutes(opts: OpenApiRoutesOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  let doc: string | undefined
  route(
    app,
    {
      method: 'get',
      path: '/openapi.json',
      operation: {
        operationId: 'getOpenApi',
        tags: ['docs'],
        summary: 'This document: OpenAPI 3.1, generated from the routes the appliance serves',
        responses: {
          '200': {
            description: 'OpenAPI 3.1 document',
            content: jsonContent({
              type: 'object',
              required: ['openapi', 'info', 'paths'],
              properties: { openapi: { type: 'string', const: '3.1.0' }, info: { type: 'object' }, paths: { type: 'object' } },
            }),
          },
        },
      },
    },
    (c) => {
      doc ??= JSON.stringify(buildApplianceOpenApi(opts.routes(), opts.version ? { version: opts.version } : {}))
      return c.body(doc, 200, { 'content-type': 'application/json' })
    },
  )
  route(
    app,
    {
      method: 'get',
      path: '/docs',
      operation: { operationId: 'getDocs', tags: ['docs'], summary: 'A page that renders this document', responses: { '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } } },
    },
    (c) => c.html(DOCS_PAGE),
  )
  return app
}
