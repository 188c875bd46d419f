/** POSIX single-quote quoting: the only form in which no character ($, `, \, ", newline) is special. */
export function shq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`
}
