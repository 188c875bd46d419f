/**
 * ELF e_machine check for native modules and the Node runtime: a bundle for an arm64 DPU must not carry an
 * x86-64 better-sqlite3 built on the build host.
 */
import { open } from 'node:fs/promises'

export const TARGET_ARCHES = { arm64: 183, x64: 62 } as const
export type TargetArch = keyof typeof TARGET_ARCHES

const MACHINE_NAMES: Record<number, string> = { 3: 'x86 (i386)', 40: 'arm (32-bit)', 62: 'x86-64', 183: 'aarch64', 243: 'riscv' }

export function machineName(machine: number | undefined): string {
  if (machine === undefined) return 'not an ELF file'
  return MACHINE_NAMES[machine] ?? `ELF machine ${machine}`
}

export function archName(arch: TargetArch): string {
  return machineName(TARGET_ARCHES[arch])
}

/** e_machine of an ELF file, or undefined when the file is not ELF. */
export async function readElfMachine(path: string): Promise<number | undefined> {
  const fh = await open(path, 'r')
  try {
    const b = Buffer.alloc(20)
    const { bytesRead } = await fh.read(b, 0, 20, 0)
    if (bytesRead < 20 || b.readUInt32BE(0) !== 0x7f454c46) return undefined
    return b[5] === 2 ? b.readUInt16BE(18) : b.readUInt16LE(18)
  } finally {
    await fh.close()
  }
}
