/**
 * Reads the files a render needs (flavor manifest, appliance config, certificates, SSH keys) and validates them
 * before anything is rendered, so a bad input never produces a half-good config.
 */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { IgnitionInputError } from './errors.js'
import { parseFlavorText } from './flavor.js'
import type { ApplianceInputs, Certificate } from './appliance-plan.js'

async function readInput(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (err) {
    throw new IgnitionInputError(`cannot read ${what} ${path}: ${err instanceof Error ? err.message : String(err)}`, [], { path })
  }
}

/** The appliance config stays opaque here; it must at least be one YAML mapping. */
export function checkApplianceConfig(text: Buffer, source: string): void {
  let doc: unknown
  try {
    doc = parseYaml(text.toString('utf8'))
  } catch (err) {
    throw new IgnitionInputError(`${source}: not valid YAML: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new IgnitionInputError(`${source}: the appliance config must be a YAML mapping`)
}

const CERT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

export interface InputPaths {
  flavor?: string
  config?: string
  certs?: string[]
  listen?: string
}

export async function readApplianceInputs(paths: InputPaths): Promise<ApplianceInputs> {
  const inputs: ApplianceInputs = { listen: paths.listen }
  if (paths.flavor) inputs.flavor = parseFlavorText((await readInput(paths.flavor, 'flavor')).toString('utf8'), paths.flavor)
  if (paths.config) {
    inputs.config = await readInput(paths.config, 'appliance config')
    checkApplianceConfig(inputs.config, paths.config)
  }
  const certs: Certificate[] = []
  for (const c of paths.certs ?? []) {
    const name = basename(c)
    if (!CERT_NAME.test(name)) throw new IgnitionInputError(`certificate file name ${JSON.stringify(name)} must be [A-Za-z0-9._-]`)
    if (certs.some((x) => x.name === name)) throw new IgnitionInputError(`two certificates named ${name}`)
    certs.push({ name, contents: await readInput(c, 'certificate') })
  }
  inputs.certificates = certs
  return inputs
}

/** Reads OpenSSH public key files: one key per non-empty, non-comment line. */
export async function readSshKeys(paths: readonly string[]): Promise<string[]> {
  const keys: string[] = []
  for (const p of paths) {
    for (const line of (await readInput(p, 'SSH key file')).toString('utf8').split(/\r?\n/)) {
      const k = line.trim()
      if (k && !k.startsWith('#')) keys.push(k)
    }
  }
  return keys
}
