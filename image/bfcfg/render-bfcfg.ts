/**
 * bf.cfg for NVIDIA's BFB installer (reference/image.md §4.3): a bash fragment it sources from the boot FIFO.
 * DPUFlavor `bfcfgParameters` become variable assignments at the top (values re-quoted), and `bfb_modify_os`,
 * called with the new root mounted at /mnt, installs the appliance bundle, every file of the appliance plan,
 * the systemd units, sysctl and grub kernel parameters.
 *
 * Quoting: file contents travel as base64 and every other user value as a single-quoted word, so nothing a
 * flavor says is ever evaluated by the installer's shell. The hook body is a subshell with `set -e`, so a
 * failure stops the hook without changing the installer's own shell options.
 */
import { createHash } from 'node:crypto'
import { APPLIANCE_PATHS, type AppliancePlan } from '../../ignition/appliance-plan.js'
import type { DPUFlavor } from '../../ignition/flavor.js'
import { ImageInputError } from '../errors.js'
import { shq } from './shell-quote.js'

/** DPF caps bf.cfg at 128 KiB ("expanded to 128k since DOCA 2.8"). */
export const BFCFG_MAX_BYTES = 128 * 1024
/** Where `dpuctl image build` puts the bundle inside the installer's initramfs. */
export const INSTALLER_BUNDLE_PATH = '/dpu-appliance/appliance-bundle.tar.gz'

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** `KEY=value` lines of a flavor, with value unquoted once if the author quoted it, then quoted safely. */
export function renderBfcfgParameters(params: readonly string[]): string[] {
  return params.map((line, i) => {
    const eq = line.indexOf('=')
    const name = eq > 0 ? line.slice(0, eq).trim() : ''
    if (!NAME.test(name) || /[\n\r\0]/.test(line)) {
      throw new ImageInputError(`spec.bfcfgParameters[${i}] must be one NAME=value line`, {}, [{ path: `spec.bfcfgParameters[${i}]`, message: 'expected NAME=value' }])
    }
    let value = line.slice(eq + 1)
    const quoted = /^'([^']*)'$/.exec(value) ?? /^"([^"$`\\]*)"$/.exec(value)
    if (quoted) value = quoted[1]!
    return `${name}=${shq(value)}`
  })
}

export interface BfcfgInput {
  plan: AppliancePlan
  flavor?: DPUFlavor
  /** sha256 of the bundle the installer will find at INSTALLER_BUNDLE_PATH; omit to skip the check. */
  bundleSha256?: string
  /** Text for the header comment (tool version, inputs). */
  comment?: string
}

function grubFile(args: readonly string[]): string {
  return `# Written by dpuctl: DPUFlavor spec.grub.kernelParameters\nGRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX "${shq(args.join(' '))}\n`
}

function b64Lines(b: Buffer): string {
  return b
    .toString('base64')
    .replace(/.{1,76}/g, '$&\n')
    .trimEnd()
}

/** Renders bf.cfg; throws if it exceeds 128 KiB. */
export function renderBfcfg(input: BfcfgInput): string {
  const p = APPLIANCE_PATHS
  const { plan } = input
  const files = [...plan.files.map((f) => ({ ...f }))]
  if (plan.kernelArguments.length) files.push({ path: p.grub, mode: 0o644, contents: Buffer.from(grubFile(plan.kernelArguments)) })
  for (const u of plan.units) files.push({ path: `${p.unitDir}/${u.name}`, mode: 0o644, contents: Buffer.from(u.contents) })
  const body: string[] = []
  body.push(`  dpu_appliance_bundle ${shq(INSTALLER_BUNDLE_PATH)} ${shq(input.bundleSha256 ?? '')}`)
  for (const f of files) {
    body.push(`  dpu_appliance_${f.append ? 'append' : 'write'} ${shq(f.path)} ${(f.mode & 0o7777).toString(8).padStart(4, '0')} <<'DPU_APPLIANCE_EOF'`)
    body.push(b64Lines(f.contents), 'DPU_APPLIANCE_EOF')
  }
  for (const u of plan.units.filter((x) => x.enabled)) body.push(`  dpu_appliance_enable ${shq(u.name)}`)
  body.push(`  mkdir -p "$DPU_APPLIANCE_ROOT${p.dataDir}" && chmod 0700 "$DPU_APPLIANCE_ROOT${p.dataDir}"`)
  if (plan.kernelArguments.length) body.push('  dpu_appliance_update_grub')

  const header = [
    '# bf.cfg written by dpuctl image bfcfg: installs the dpu-appliance during the BFB install.',
    ...(input.comment ? input.comment.split('\n').map((l) => `# ${l.replace(/[\r\0]/g, '')}`) : []),
    `# The installer sources this file and calls bfb_modify_os with the new root mounted at /mnt.`,
  ]
  const params = renderBfcfgParameters(input.flavor?.spec.bfcfgParameters ?? [])
  const text = [
    ...header,
    ...params,
    '',
    '# Overridable only for tests: the installer mounts the target at /mnt.',
    'DPU_APPLIANCE_ROOT="${DPU_APPLIANCE_ROOT:-/mnt}"',
    `DPU_APPLIANCE_BUNDLE_DIR="\${DPU_APPLIANCE_BUNDLE_DIR:-}"`,
    '',
    'dpu_appliance_log() { echo "dpu-appliance: $*" >&2; }',
    '',
    '# dpu_appliance_write PATH MODE: base64 on stdin -> $DPU_APPLIANCE_ROOT/PATH',
    'dpu_appliance_write() {',
    '  local dest="$DPU_APPLIANCE_ROOT$1"',
    '  mkdir -p "${dest%/*}"',
    '  base64 -d > "$dest.dpu-new"',
    '  chmod "$2" "$dest.dpu-new"',
    '  mv -f "$dest.dpu-new" "$dest"',
    '}',
    '',
    'dpu_appliance_append() {',
    '  local dest="$DPU_APPLIANCE_ROOT$1"',
    '  mkdir -p "${dest%/*}"',
    '  [ -e "$dest" ] || { : > "$dest"; chmod "$2" "$dest"; }',
    '  base64 -d >> "$dest"',
    '}',
    '',
    'dpu_appliance_enable() {',
    `  mkdir -p "$DPU_APPLIANCE_ROOT${p.unitDir}/multi-user.target.wants"`,
    `  ln -sfn "${p.unitDir}/$1" "$DPU_APPLIANCE_ROOT${p.unitDir}/multi-user.target.wants/$1"`,
    '}',
    '',
    '# dpu_appliance_bundle PATH SHA256: unpack the bundle into /opt/dpu-appliance and check its manifest.',
    'dpu_appliance_bundle() {',
    '  local bundle="${DPU_APPLIANCE_BUNDLE_DIR:+$DPU_APPLIANCE_BUNDLE_DIR/${1##*/}}"',
    '  bundle="${bundle:-$1}"',
    `  local dest="$DPU_APPLIANCE_ROOT${p.prefix}"`,
    '  [ -f "$bundle" ] || { dpu_appliance_log "bundle $bundle not found"; return 1; }',
    '  if [ -n "$2" ]; then echo "$2  $bundle" | sha256sum -c --quiet - >&2 || { dpu_appliance_log "bundle checksum mismatch"; return 1; }; fi',
    '  rm -rf "$dest.dpu-new" && mkdir -p "$dest.dpu-new"',
    '  tar -xzf "$bundle" -C "$dest.dpu-new" --no-same-owner',
    '  (cd "$dest.dpu-new" && sha256sum -c --quiet MANIFEST.sha256)',
    '  sha256sum "$bundle" | cut -d" " -f1 > "$dest.dpu-new/.bundle-sha256"',
    '  rm -rf "$dest" && mv "$dest.dpu-new" "$dest"',
    '}',
    '',
    'dpu_appliance_update_grub() {',
    '  # Only inside the real installer: the target has its bootloader tools, and chroot needs root.',
    '  if [ "$DPU_APPLIANCE_ROOT" = /mnt ] && [ -x /mnt/usr/sbin/update-grub ]; then chroot /mnt /usr/sbin/update-grub',
    `  elif [ "$DPU_APPLIANCE_ROOT" = /mnt ] && [ -x /mnt/usr/sbin/grubby ]; then chroot /mnt /usr/sbin/grubby --update-kernel=ALL --args=${shq(plan.kernelArguments.join(' '))}`,
    '  fi',
    '}',
    '',
    'bfb_modify_os() (',
    '  set -e',
    '  dpu_appliance_log "installing into $DPU_APPLIANCE_ROOT"',
    ...body,
    '  dpu_appliance_log "installed"',
    ')',
    '',
  ].join('\n')
  const size = Buffer.byteLength(text)
  if (size > BFCFG_MAX_BYTES) throw new ImageInputError(`bf.cfg would be ${size} bytes; the installer takes at most ${BFCFG_MAX_BYTES} (drop large config files or certificates)`, { size })
  return text
}

export function sha256Hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex')
}
