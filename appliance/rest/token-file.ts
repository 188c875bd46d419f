/**
 * The bearer token file. On first start the appliance mints 32 random bytes (base64url) into
 * `<data-dir>/token` with mode 0600, created exclusively so two starts cannot race to different tokens.
 * A token file given by the operator is only read. Either is refused when group or others may read or write
 * it (the token is the API's only credential), and re-read when it changes: rewriting the file revokes the old
 * token with the next request.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { ApplianceError } from '../../api/errors.js'

/** Refuses a token file that group or others can read or write (as ssh does for private keys). */
export function checkTokenFileMode(path: string): void {
  let mode: number
  try {
    mode = statSync(path).mode & 0o777
  } catch (err) {
    throw new ApplianceError('config.invalid', `cannot read token file ${path}: ${(err as Error).message}`, { cause: err, context: { path } })
  }
  if ((mode & 0o077) !== 0) {
    throw new ApplianceError('config.invalid', `token file ${path} is accessible by group or others (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600 ${path}`, {
      context: { path, mode },
    })
  }
}

/** The token in `path` (one word); the client side reads it this way too, without the server's mode rule. */
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

/** Reads `path` (refused when open to group or others), or creates it with a fresh token when `create` and it does not exist yet. */
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
  checkTokenFileMode(path)
  return readTokenFile(path)
}

/**
 * The token as the file says now: `current()` compares the file's identity (inode, size, mtime, ctime) with
 * the last read and re-reads it when it changed, so a rotation takes effect with the next request. A file that
 * became unusable (removed, emptied, opened to others) throws its `config.invalid` error on every call, which
 * the auth middleware answers as 401: a broken credential never falls back to the old token.
 */
export class TokenFileSource {
  #stamp = ''
  #token: string | undefined
  #error: ApplianceError | undefined

  constructor(readonly path: string) {
    this.current()
    if (this.#error) throw this.#error
  }

  current(): string {
    let stamp: string
    try {
      const st = statSync(this.path, { bigint: true })
      stamp = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.mode}`
    } catch (err) {
      stamp = 'missing'
      if (stamp !== this.#stamp) {
        this.#token = undefined
        this.#error = new ApplianceError('config.invalid', `cannot read token file ${this.path}: ${(err as Error).message}`, { cause: err, context: { path: this.path } })
      }
    }
    if (stamp !== this.#stamp && stamp !== 'missing') {
      try {
        checkTokenFileMode(this.path)
        this.#token = readTokenFile(this.path)
        this.#error = undefined
      } catch (err) {
        this.#token = undefined
        this.#error = err as ApplianceError
      }
    }
    this.#stamp = stamp
    if (this.#error || this.#token === undefined) throw this.#error ?? new ApplianceError('config.invalid', `token file ${this.path} is unusable`, { context: { path: this.path } })
    return this.#token
  }
}
