/**
 * Fleet objects from a directory of YAML/JSON manifests (recursively, `*.yaml|*.yml|*.json`, dot-files
 * skipped), re-read on change. A file that fails to parse keeps its last good objects and is reported in
 * `errors()`, so a half-saved edit never deletes a fleet's objects. When two files define the same object,
 * the first in path order wins and the other is reported.
 *
 * Change detection: fs.watch (recursive, inotify) debounced by 100 ms, plus a rescan every `rescanMs` that
 * catches what inotify misses (directories replaced wholesale, network file systems).
 */
import { watch, type FSWatcher } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative } from 'node:path'
import type { ParsedObject } from '../../../api/resources/kind.js'
import type { Logger } from '../../wire/logger.js'
import { silentLogger } from '../../wire/logger.js'
import { objectKey, type FleetSource } from '../source.js'

export type ParseFile = (text: string, source: string) => ParsedObject[]

interface FileState { mtimeMs: number; size: number; objects: ParsedObject[] }

export interface ManifestDirOptions {
  dir: string
  parse: ParseFile
  logger?: Logger
  debounceMs?: number
  rescanMs?: number
}

const MANIFEST = /\.(ya?ml|json)$/

export class ManifestDirSource implements FleetSource {
  readonly name = 'manifest-dir'
  private readonly files = new Map<string, FileState>()
  private readonly fileErrors = new Map<string, string>()
  private watcher: FSWatcher | undefined
  private timer: NodeJS.Timeout | undefined
  private rescanTimer: NodeJS.Timeout | undefined
  private scanning: Promise<void> | undefined
  private again = false
  private lastFingerprint = ''
  private isSynced = false
  private onSnapshot: (objects: readonly ParsedObject[]) => void = () => {}
  private readonly logger: Logger

  constructor(private readonly options: ManifestDirOptions) {
    this.logger = options.logger ?? silentLogger
  }

  async start(onSnapshot: (objects: readonly ParsedObject[]) => void): Promise<void> {
    this.onSnapshot = onSnapshot
    await this.scan()
    try {
      this.watcher = watch(this.options.dir, { recursive: true }, () => this.schedule())
      this.watcher.on('error', (err) => this.logger.warn({ err }, 'manifest directory watch failed; relying on rescans'))
    } catch (err) {
      this.logger.warn({ err, dir: this.options.dir }, 'cannot watch manifest directory; relying on rescans')
    }
    this.rescanTimer = setInterval(() => this.schedule(), this.options.rescanMs ?? 2000)
    this.rescanTimer.unref()
  }

  async stop(): Promise<void> {
    this.watcher?.close()
    clearTimeout(this.timer)
    clearInterval(this.rescanTimer)
    await this.scanning
  }

  synced(): boolean {
    return this.isSynced
  }

  /** Files that failed to parse, with the reason (their last good objects are still served). */
  errors(): Record<string, string> {
    return Object.fromEntries(this.fileErrors)
  }

  private schedule(): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => void this.scan(), this.options.debounceMs ?? 100)
  }

  private async scan(): Promise<void> {
    if (this.scanning) {
      this.again = true
      return this.scanning
    }
    this.scanning = this.scanOnce().finally(() => {
      this.scanning = undefined
      if (this.again) {
        this.again = false
        void this.scan()
      }
    })
    return this.scanning
  }

  private async scanOnce(): Promise<void> {
    const paths = await listManifests(this.options.dir).catch((err: unknown) => {
      this.logger.error({ err, dir: this.options.dir }, 'cannot list manifest directory')
      return undefined
    })
    if (!paths) return
    const seen = new Set(paths)
    for (const path of [...this.files.keys()]) if (!seen.has(path)) this.files.delete(path)
    for (const path of [...this.fileErrors.keys()]) if (!seen.has(path)) this.fileErrors.delete(path)
    for (const path of paths) {
      const st = await stat(path).catch(() => undefined)
      if (!st) continue
      const prev = this.files.get(path)
      if (prev && prev.mtimeMs === st.mtimeMs && prev.size === st.size) continue
      const rel = relative(this.options.dir, path)
      try {
        const objects = this.options.parse(await readFile(path, 'utf8'), rel)
        this.files.set(path, { mtimeMs: st.mtimeMs, size: st.size, objects })
        this.fileErrors.delete(path)
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err)
        if (this.fileErrors.get(path) !== message) this.logger.warn({ file: rel, err: message }, 'manifest rejected; keeping its last good objects')
        this.fileErrors.set(path, message)
        // Remember the failed version's mtime so it is not re-parsed every rescan; keep the old objects.
        this.files.set(path, { mtimeMs: st.mtimeMs, size: st.size, objects: prev?.objects ?? [] })
      }
    }
    const byKey = new Map<string, ParsedObject>()
    for (const path of [...this.files.keys()].sort()) {
      for (const obj of this.files.get(path)?.objects ?? []) {
        const key = objectKey(obj)
        if (byKey.has(key)) {
          this.logger.warn({ key, file: relative(this.options.dir, path) }, 'object defined twice; the first file in path order wins')
          continue
        }
        byKey.set(key, obj)
      }
    }
    const fingerprint = [...this.files.entries()].map(([p, f]) => `${p}:${f.mtimeMs}:${f.size}`).sort().join('\n')
    if (this.isSynced && fingerprint === this.lastFingerprint) return
    this.lastFingerprint = fingerprint
    this.isSynced = true
    this.onSnapshot([...byKey.values()])
  }
}

async function listManifests(dir: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue
      const p = join(d, entry.name)
      if (entry.isDirectory()) await walk(p)
      else if (entry.isFile() && MANIFEST.test(entry.name)) out.push(p)
    }
  }
  await walk(dir)
  return out.sort()
}
