/**
 * Fleet objects from a directory of YAML/JSON manifests (recursively, `*.yaml|*.yml|*.json`, dot-files
 * skipped), re-read on change. A file that fails to parse keeps its last good objects and is reported in
 * `errors()`, so a half-saved edit never deletes a fleet's objects. With a store (the hub's database), each
 * file's last good text is kept there too, so a file that is broken when the hub starts (a write cut short by a
 * crash) still contributes its last good objects; only a file that is gone removes them. When two files define the same object,
 * the first in path order wins and the other is reported.
 *
 * Change detection: one non-recursive fs.watch (inotify) per directory, debounced by 100 ms, plus a rescan every
 * `rescanMs` that catches what inotify misses (network file systems). Not `{recursive: true}`: on Node 20 Linux it
 * misses files replaced by rename (an editor's or kubectl-style atomic write: 14 of 15 missed here), which left
 * changes to the rescan.
 */
import { watch, type FSWatcher } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import type { ParsedObject } from '../../../api/resources/kind.js'
import type { Logger } from '../../wire/logger.js'
import { silentLogger } from '../../wire/logger.js'
import { objectKey, type FleetSource, type SnapshotChange, type SnapshotStore } from '../source.js'

export type ParseFile = (text: string, source: string) => ParsedObject[]

interface FileState {
  mtimeMs: number
  size: number
  objects: ParsedObject[]
}

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
  /** One watcher per directory holding manifests (and the root), kept in step by each scan. */
  private readonly watchers = new Map<string, FSWatcher>()
  private stopped = false
  private timer: NodeJS.Timeout | undefined
  private rescanTimer: NodeJS.Timeout | undefined
  private scanning: Promise<void> | undefined
  private again = false
  private lastFingerprint = ''
  private isSynced = false
  private onSnapshot: (objects: readonly ParsedObject[], change?: SnapshotChange) => void = () => {}
  /** Objects of files deleted since the last snapshot: removed on purpose. */
  private deliberate = new Set<string>()
  private readonly logger: Logger
  private store: SnapshotStore | undefined
  /** Last good text per file (relative path), as held in the store. */
  private stored = new Map<string, string>()

  constructor(private readonly options: ManifestDirOptions) {
    this.logger = options.logger ?? silentLogger
  }

  useStore(store: SnapshotStore): void {
    this.store = store
    this.stored = store.load()
  }

  async start(onSnapshot: (objects: readonly ParsedObject[], change?: SnapshotChange) => void): Promise<void> {
    this.onSnapshot = onSnapshot
    await this.scan()
    this.rescanTimer = setInterval(() => this.schedule(), this.options.rescanMs ?? 2000)
    this.rescanTimer.unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const w of this.watchers.values()) w.close()
    this.watchers.clear()
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

  /** Watch exactly these directories (each non-recursively); drop watchers of directories no longer listed. */
  private watchDirs(dirs: readonly string[]): void {
    if (this.stopped) return
    const want = new Set(dirs)
    for (const [dir, w] of this.watchers) {
      if (want.has(dir)) continue
      w.close()
      this.watchers.delete(dir)
    }
    for (const dir of want) {
      if (this.watchers.has(dir)) continue
      try {
        const w = watch(dir, () => this.schedule())
        w.on('error', (err) => this.logger.warn({ err, dir }, 'manifest directory watch failed; relying on rescans'))
        this.watchers.set(dir, w)
      } catch (err) {
        this.logger.warn({ err, dir }, 'cannot watch manifest directory; relying on rescans')
      }
    }
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
    this.watchDirs([this.options.dir, ...new Set(paths.map((p) => dirname(p)))])
    const seen = new Set(paths)
    for (const [path, f] of [...this.files]) {
      if (seen.has(path)) continue
      for (const obj of f.objects) this.deliberate.add(objectKey(obj))
      this.files.delete(path)
    }
    for (const path of [...this.fileErrors.keys()]) if (!seen.has(path)) this.fileErrors.delete(path)
    // A file that is gone was removed on purpose: forget its last good text too.
    const seenRel = new Set(paths.map((p) => relative(this.options.dir, p)))
    for (const rel of [...this.stored.keys()]) if (!seenRel.has(rel)) this.forget(rel)
    for (const path of paths) {
      const st = await stat(path).catch(() => undefined)
      if (!st) continue
      const prev = this.files.get(path)
      if (prev && prev.mtimeMs === st.mtimeMs && prev.size === st.size) continue
      const rel = relative(this.options.dir, path)
      let text: string | undefined
      try {
        text = await readFile(path, 'utf8')
        const objects = this.options.parse(text, rel)
        this.files.set(path, { mtimeMs: st.mtimeMs, size: st.size, objects })
        this.fileErrors.delete(path)
        this.remember(rel, text)
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err)
        if (this.fileErrors.get(path) !== message) this.logger.warn({ file: rel, err: message }, 'manifest rejected; keeping its last good objects')
        this.fileErrors.set(path, message)
        // Remember the failed version's mtime so it is not re-parsed every rescan; keep the old objects, from
        // memory or, right after a restart, from the store.
        this.files.set(path, { mtimeMs: st.mtimeMs, size: st.size, objects: prev?.objects ?? this.lastGood(rel) })
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
    const fingerprint = [...this.files.entries()]
      .map(([p, f]) => `${p}:${f.mtimeMs}:${f.size}`)
      .sort()
      .join('\n')
    if (this.isSynced && fingerprint === this.lastFingerprint) return
    this.lastFingerprint = fingerprint
    this.isSynced = true
    const deliberate = this.deliberate
    this.deliberate = new Set()
    this.onSnapshot([...byKey.values()], { deliberate })
  }

  private remember(rel: string, text: string): void {
    if (this.stored.get(rel) === text) return
    this.stored.set(rel, text)
    try {
      this.store?.put(rel, text)
    } catch (err) {
      this.logger.error({ err, file: rel }, 'cannot store the last good version of a manifest')
    }
  }

  private forget(rel: string): void {
    this.stored.delete(rel)
    try {
      this.store?.delete(rel)
    } catch (err) {
      this.logger.error({ err, file: rel }, 'cannot forget the stored version of a removed manifest')
    }
  }

  private lastGood(rel: string): ParsedObject[] {
    const text = this.stored.get(rel)
    if (text === undefined) return []
    try {
      const objects = this.options.parse(text, rel)
      this.logger.warn({ file: rel, objects: objects.length }, 'manifest rejected at start; serving its last good version from the hub database')
      return objects
    } catch (err) {
      // The schema changed under a stored version: nothing safe to serve for this file.
      this.logger.error({ file: rel, err: err instanceof Error ? err.message : String(err) }, 'stored last good manifest no longer parses')
      return []
    }
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
