/** A pino-shaped logger that keeps every line it is given, for unit tests of what gets logged. */
import type { LevelLogger } from '../../api/support/log-limit.js'

export interface RecordedLine {
  level: 'debug' | 'info' | 'warn' | 'error'
  fields: Record<string, unknown>
  msg: string
}

export function recordingLogger(): LevelLogger & { lines: RecordedLine[] } {
  const lines: RecordedLine[] = []
  const at = (level: RecordedLine['level']) => (fields: object, msg?: string) => void lines.push({ level, fields: fields as Record<string, unknown>, msg: msg ?? '' })
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}
