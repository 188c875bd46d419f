/**
 * Ignition `contents` for embedded files (RFC 2397 data URLs): small files percent-encoded so the config stays
 * readable, larger ones gzip + base64 with `compression: "gzip"` when that is smaller. gzip output is stable
 * (Node writes mtime 0 and no name), so the same input always renders the same config.
 */
import { gzipSync } from 'node:zlib'

export interface IgnitionResource {
  source: string
  compression?: 'gzip'
}

export const GZIP_THRESHOLD = 2048

export function toDataUrl(contents: Buffer): IgnitionResource {
  if (contents.length >= GZIP_THRESHOLD) {
    const z = gzipSync(contents, { level: 9 })
    if (z.length < contents.length) return { source: `data:;base64,${z.toString('base64')}`, compression: 'gzip' }
  }
  const text = contents.toString('utf8')
  if (Buffer.from(text, 'utf8').equals(contents)) return { source: `data:,${encodeURIComponent(text)}` }
  return { source: `data:;base64,${contents.toString('base64')}` }
}
