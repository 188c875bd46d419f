/**
 * Kubernetes resource quantities (`k8s.io/apimachinery/pkg/api/resource`, `Quantity`): `500m`, `2`, `0.5`,
 * `64Mi`, `1G`, `1e3`. A quantity is read exactly (decimal digits as a BigInt, never a float: `0.1` CPU is 100
 * millis, not 100.00000000000001) and rounded up to the unit asked for, as Kubernetes rounds a request up.
 *
 *   <quantity> ::= <signedNumber><suffix>
 *   <suffix>   ::= Ki | Mi | Gi | Ti | Pi | Ei | n | u | m | "" | k | M | G | T | P | E | e<signedInt> | E<signedInt>
 *
 * YAML often gives a bare number (`cpu: 1`, `memory: 1073741824`), so numbers are accepted as their decimal text.
 */
import { ValidationError } from './errors.js'

/** The value of one quantity, read for one purpose. */
export type QuantityUnit =
  /** CPU in millicores: `500m` -> 500, `2` -> 2000. */
  | 'cpuMillis'
  /** Bytes: `64Mi` -> 67108864, `1G` -> 1000000000. */
  | 'bytes'
  /** A whole count of devices (`nvidia.com/bf_sf: 4`): a fraction is an error, not rounded. */
  | 'count'

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/

/** Binary suffixes as powers of 1024; decimal suffixes as powers of ten. */
const BINARY: Readonly<Record<string, number>> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 }
const DECIMAL: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 }

/**
 * Bounds that keep the BigInt work small for any input: a quantity's text is short, and a power of ten beyond
 * 10^40 either way is far outside any resource (2^53 bytes is 8 PiB; 10^-40 rounds up to 1 of anything).
 */
const MAX_TEXT = 64
const MAX_EXPONENT = 40

function fail(field: string, value: unknown, why: string): ValidationError {
  const message = `${why} (got ${JSON.stringify(value)})`
  return new ValidationError(`${field}: ${message}`, { field }, [{ path: field, message }])
}

/**
 * A Kubernetes quantity as a whole number of `unit`, rounded up; throws `api.validation` naming `field`.
 * @example parseQuantity('500m', 'cpuMillis', 'spec.containers[0].resources.limits.cpu') === 500
 * @example parseQuantity('64Mi', 'bytes', 'memory') === 67108864
 */
export function parseQuantity(value: string | number, unit: QuantityUnit, field: string): number {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value.trim()
  if (text.length > MAX_TEXT) throw fail(field, value, `must be at most ${MAX_TEXT} characters`)
  const m = QUANTITY.exec(text)
  if (m === null) throw fail(field, value, 'must be a Kubernetes quantity such as 500m, 2, 64Mi or 1G')
  const sign = m[1] ?? ''
  const number = m[2] ?? '0'
  const suffix = m[3] ?? ''
  const [whole, fraction = ''] = number.split('.')
  let exp10 = -fraction.length + (unit === 'cpuMillis' ? 3 : 0)
  let exp2 = 0
  if (suffix in BINARY) exp2 = 10 * BINARY[suffix]!
  else if (suffix in DECIMAL) exp10 += DECIMAL[suffix]!
  else exp10 += Number(suffix.slice(1))
  if (Math.abs(exp10) > MAX_EXPONENT) throw fail(field, value, 'is out of range')
  const digits = BigInt(`${whole}${fraction}` || '0')
  if (sign === '-' && digits !== 0n) throw fail(field, value, 'must not be negative')
  const num = digits * 2n ** BigInt(exp2) * 10n ** BigInt(Math.max(exp10, 0))
  const den = 10n ** BigInt(Math.max(-exp10, 0))
  if (unit === 'count' && num % den !== 0n) throw fail(field, value, 'must be a whole number')
  const rounded = (num + den - 1n) / den
  if (rounded > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(field, value, 'is too large')
  return Number(rounded)
}

/** Whether `value` reads as a quantity of `unit` (for schemas: the message comes from `parseQuantity`). */
export function quantityProblem(value: string | number, unit: QuantityUnit): string | undefined {
  try {
    parseQuantity(value, unit, '')
    return undefined
  } catch (err) {
    return err instanceof ValidationError ? err.issues[0]?.message : String(err)
  }
}
