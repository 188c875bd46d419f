#!/usr/bin/env node
// Launcher: runs the compiled CLI (built by `npm ci` through `prepare`); falls back to the TypeScript
// sources through tsx in a development checkout that has not been built.
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { dirname, join } from 'node:path'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const built = join(root, 'dist', 'bin', 'dpuctl.js')
if (existsSync(built) && !process.env.DPUCTL_FROM_SOURCE) {
  await import(pathToFileURL(built).href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import(pathToFileURL(join(root, 'bin', 'dpuctl.ts')).href)
}
