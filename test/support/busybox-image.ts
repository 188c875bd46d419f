/**
 * Builds the busybox test image for the podman backend: no registry is reachable here, so the root filesystem
 * is made from Debian's busybox-static (/bin/busybox and a symlink per applet) plus `/pause`, the pod infra
 * command (a shell that sleeps until SIGTERM/SIGINT and then exits 0), and `podman import`ed under a tag.
 *
 * Idempotent and cached by content: the image carries a label with the sha256 of everything that went into it
 * (busybox binary, applet list, pause script); when the tag exists with the same hash nothing is rebuilt.
 */
import { createHash } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCommand } from '../../appliance/runtime/ports/command.js'
import { PODMAN_CONTAINERS_CONF } from '../../appliance/runtime/services/podman-runtime.js'

const BUSYBOX = '/bin/busybox'
const HASH_LABEL = 'dpu.appliance.test/content-hash'
export const PAUSE_SCRIPT = '#!/bin/sh\ntrap "exit 0" TERM INT\nwhile :; do sleep 3600 & wait $!; done\n'

const podmanEnv = { ...process.env, CONTAINERS_CONF: PODMAN_CONTAINERS_CONF }

async function podman(args: string[], timeoutMs = 120_000): Promise<string> {
  // runCommand passes no env option, so the environment is set through `env` itself.
  const env = Object.entries(podmanEnv)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`)
  return (await runCommand(['env', '-i', ...env, 'podman', ...args], { timeoutMs })).stdout
}

/** Makes sure `tag` (e.g. `localhost/dpu-test-busybox:1`) is a local image built from busybox-static; returns it. */
export async function ensureBusyboxImage(tag: string): Promise<string> {
  const busybox = await readFile(BUSYBOX)
  // Debian's dynamic `busybox` package installs the same path; the image has no libc, so only busybox-static works.
  if (hasInterpreter(busybox)) throw new Error(`${BUSYBOX} is dynamically linked: install busybox-static`)
  const applets = (await runCommand([BUSYBOX, '--list'])).stdout.split('\n').filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox')
  const hash = createHash('sha256').update(busybox).update(applets.join('\n')).update(PAUSE_SCRIPT).digest('hex')

  const current = await podman(['image', 'inspect', '--format', `{{ index .Config.Labels "${HASH_LABEL}" }}`, tag]).catch(() => '')
  if (current.trim() === hash) return tag

  const dir = await mkdtemp(join(tmpdir(), 'busybox-rootfs-'))
  try {
    const root = join(dir, 'root')
    for (const d of ['bin', 'tmp', 'etc', 'proc', 'sys', 'dev', 'root']) await mkdir(join(root, d), { recursive: true })
    await chmod(join(root, 'tmp'), 0o1777)
    await writeFile(join(root, 'bin', 'busybox'), busybox, { mode: 0o755 })
    for (const a of applets) await symlink('busybox', join(root, 'bin', a))
    await writeFile(join(root, 'pause'), PAUSE_SCRIPT, { mode: 0o755 })
    await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n')
    await writeFile(join(root, 'etc', 'group'), 'root:x:0:\n')
    const tar = join(dir, 'rootfs.tar')
    await runCommand(['tar', '--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', tar, '.'])
    await podman(['import', '--change', `LABEL ${HASH_LABEL}=${hash}`, '--change', 'ENV PATH=/bin', '--change', 'CMD ["/bin/sh"]', tar, tag])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  return tag
}

/** Whether a 64-bit little-endian ELF has a PT_INTERP program header (is dynamically linked). */
function hasInterpreter(elf: Buffer): boolean {
  const PT_INTERP = 3
  const phoff = Number(elf.readBigUInt64LE(0x20))
  const phentsize = elf.readUInt16LE(0x36)
  const phnum = elf.readUInt16LE(0x38)
  for (let i = 0; i < phnum; i++) if (elf.readUInt32LE(phoff + i * phentsize) === PT_INTERP) return true
  return false
}
