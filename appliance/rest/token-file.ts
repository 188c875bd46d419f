/**
 * The bearer token file. On first start the appliance mints 32 random bytes (base64url) into
 * `<data-dir>/token` with mode 0600, created exclusively so two starts cannot race to different tokens.
 * A token file given by the operator is only read.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { ApplianceError } from '../../api/errors.js'

export function readTokenFile(path: string): string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ApplianceError('config.invalid', `cannot read token file ${path}: ${(err as Error).message}`, { cause: err, context: { path } })
  }
  const token = text.trim()
  if (token === '' || /\s/.test(token)) {
    throw new ApplianceError('config.invalid', `token file ${path} must hold one token without whitespace`, { context: { path } })
  }
  return token
}

/** Reads `path`, or creates it with a fresh random token when `create` and it does not exist yet. */
export function loadOrCreateToken(path: string, create: boolean): string {
  if (create) {
    try {
      writeFileSync(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new ApplianceError('config.invalid', `cannot create token file ${path}: ${(err as Error).message}`, { cause: err, context: { path } })
      }
    }
  }
  return readTokenFile(path)
}
