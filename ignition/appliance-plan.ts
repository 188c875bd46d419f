/**
 * What the appliance needs on a DPU's root filesystem, as data: files (with modes), systemd units and kernel
 * arguments. Ignition (RHCOS), bf.cfg (NVIDIA's installer) and the RHCOS layer each turn this one plan into
 * their own format, so the three install paths cannot drift apart.
 */
import { APPLIANCE_ENV, APPLIANCE_NODE_FLAGS } from '../api/support/appliance-runtime.js'
import { IgnitionInputError } from './errors.js'
import type { DPUFlavor } from './flavor.js'

export const APPLIANCE_PATHS = {
  prefix: '/opt/dpu-appliance',
  cli: '/opt/dpu-appliance/bin/dpuctl.mjs',
  nodeBin: '/opt/dpu-appliance/node/bin',
  configDir: '/etc/dpu-appliance',
  config: '/etc/dpu-appliance/appliance.yaml',
  certsDir: '/etc/dpu-appliance/certs',
  flavor: '/etc/dpu-appliance/dpuflavor.json',
  ovsBootstrap: '/etc/dpu-appliance/ovs-bootstrap.sh',
  kernelArgs: '/etc/dpu-appliance/kernel-args',
  dataDir: '/var/lib/dpu-appliance',
  sysctl: '/etc/sysctl.d/90-dpu-appliance.conf',
  grub: '/etc/default/grub.d/90-dpu-appliance.cfg',
  /** Where the RHCOS layer puts the bundle (immutable /usr). */
  bundleInImage: '/usr/lib/dpu-appliance/appliance-bundle.tar.gz',
  /** Where Ignition puts a bundle it fetched by URL. */
  bundleFetched: '/var/lib/dpu-appliance/appliance-bundle.tar.gz',
  unitDir: '/etc/systemd/system',
} as const

export const UNITS = {
  appliance: 'dpu-appliance.service',
  ovsBootstrap: 'dpu-appliance-ovs-bootstrap.service',
  unpack: 'dpu-appliance-unpack.service',
  kargs: 'dpu-appliance-kargs.service',
} as const

export const DEFAULT_LISTEN = '0.0.0.0:8443'

export interface PlanFile {
  path: string
  /** Unix mode bits (0o600...). */
  mode: number
  contents: Buffer
  /** Append to an existing file instead of replacing it (DPUFlavor configFiles operation "append"). */
  append?: boolean
}

export interface PlanUnit {
  name: string
  contents: string
  enabled: boolean
}

export interface AppliancePlan {
  files: PlanFile[]
  units: PlanUnit[]
  kernelArguments: string[]
}

export interface Certificate {
  /** File name under /etc/dpu-appliance/certs. */
  name: string
  contents: Buffer
}

export interface ApplianceInputs {
  flavor?: DPUFlavor
  /** The appliance YAML config, installed as is (its format belongs to the appliance). */
  config?: Buffer
  certificates?: Certificate[]
  listen?: string
}

/** Installed when no config is given: a development appliance with every setting at its default. */
export const DEVELOPMENT_CONFIG = '# dpu-appliance development configuration: every setting at its default.\n{}\n'

const OVS_UNITS = 'openvswitch.service openvswitch-switch.service ovs-vswitchd.service ovsdb-server.service'

function applianceUnit(listen: string): string {
  const p = APPLIANCE_PATHS
  return [
    '[Unit]',
    'Description=dpu-appliance control plane for this DPU',
    'Documentation=https://github.com/dpu-appliance/dpu-appliance',
    'Wants=network-online.target',
    `After=network-online.target ${OVS_UNITS} ${UNITS.ovsBootstrap} ${UNITS.unpack}`,
    `ConditionPathExists=${p.cli}`,
    '',
    '[Service]',
    'Type=simple',
    `Environment=PATH=${p.nodeBin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    'Environment=NODE_ENV=production',
    ...Object.entries(APPLIANCE_ENV).map(([k, v]) => `Environment=${k}=${v}`),
    // node by PATH (the bundled one first) with the flags that only work at start-up (api/support/appliance-runtime.ts).
    `ExecStart=/usr/bin/env node ${APPLIANCE_NODE_FLAGS.join(' ')} ${p.cli} appliance run --config ${p.config} --data-dir ${p.dataDir} --listen ${listen}`,
    'StateDirectory=dpu-appliance',
    'StateDirectoryMode=0700',
    'Restart=always',
    'RestartSec=2',
    'LimitNOFILE=65536',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n')
}

function ovsBootstrapUnit(): string {
  const p = APPLIANCE_PATHS
  return [
    '[Unit]',
    'Description=dpu-appliance: apply the DPUFlavor OVS settings once after install',
    `After=${OVS_UNITS}`,
    `Before=${UNITS.appliance}`,
    `ConditionPathExists=!${p.dataDir}/ovs-bootstrapped`,
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=/bin/bash ${p.ovsBootstrap}`,
    `ExecStartPost=/bin/mkdir -p ${p.dataDir}`,
    `ExecStartPost=/bin/touch ${p.dataDir}/ovs-bootstrapped`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n')
}

/**
 * Unpacks the bundle into /opt/dpu-appliance when its sha256 differs from the installed one: from the image
 * (RHCOS layer) or from where Ignition fetched it. `$$` is systemd's escape for a literal `$`.
 */
export function unpackUnit(): string {
  const p = APPLIANCE_PATHS
  const script = [
    `for b in ${p.bundleInImage} ${p.bundleFetched}; do`,
    '[ -f "$$b" ] || continue;',
    'sum=$$(sha256sum "$$b" | cut -d" " -f1);',
    `[ "$$sum" = "$$(cat ${p.prefix}/.bundle-sha256 2>/dev/null)" ] && exit 0;`,
    `rm -rf ${p.prefix}.new && mkdir -p ${p.prefix}.new;`,
    `tar -xzf "$$b" -C ${p.prefix}.new --no-same-owner;`,
    `(cd ${p.prefix}.new && sha256sum -c --quiet MANIFEST.sha256);`,
    `echo "$$sum" > ${p.prefix}.new/.bundle-sha256;`,
    `rm -rf ${p.prefix} && mv ${p.prefix}.new ${p.prefix};`,
    'exit 0;',
    'done;',
    'echo "no appliance bundle found" >&2; exit 1',
  ].join(' ')
  return [
    '[Unit]',
    'Description=dpu-appliance: unpack the appliance bundle',
    'After=local-fs.target',
    `Before=${UNITS.appliance}`,
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=/bin/sh -ec '${script}'`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n')
}

/** For Ignition specs without `kernelArguments` (3.2): rpm-ostree sets them once and reboots. */
export function kargsUnit(args: readonly string[]): string {
  const p = APPLIANCE_PATHS
  const appends = args.map((a) => `--append-if-missing=${a.replace(/\$/g, '$$$$').replace(/%/g, '%%')}`).join(' ')
  return [
    '[Unit]',
    'Description=dpu-appliance: set the DPUFlavor kernel arguments',
    'After=network-online.target',
    `ConditionPathExists=!${p.dataDir}/kargs-applied`,
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStartPre=/bin/mkdir -p ${p.dataDir}`,
    `ExecStartPre=/bin/touch ${p.dataDir}/kargs-applied`,
    `ExecStart=/usr/bin/rpm-ostree kargs ${appends} --reboot`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n')
}

function ovsBootstrapScript(flavor: DPUFlavor | undefined): string {
  const name = flavor?.metadata?.name ?? ''
  const raw = flavor?.spec.ovs?.rawConfigScript
  return [
    '#!/bin/bash',
    `# Written by dpuctl${name ? ` from DPUFlavor ${JSON.stringify(name)}` : ''}: OVS settings applied once after install.`,
    'set -euo pipefail',
    'ovs-vsctl --timeout 15 --no-wait init',
    ...(raw ? [raw.replace(/\r\n/g, '\n').replace(/\n*$/, '')] : []),
    '',
  ].join('\n')
}

function parseMode(permissions: string | undefined, fallback: number): number {
  return permissions === undefined ? fallback : parseInt(permissions, 8)
}

/** The plan for one DPU. Pure: the same inputs give the same plan. */
export function computeAppliancePlan(inputs: ApplianceInputs): AppliancePlan {
  const p = APPLIANCE_PATHS
  const flavor = inputs.flavor
  const files: PlanFile[] = [
    { path: p.config, mode: 0o600, contents: inputs.config ?? Buffer.from(DEVELOPMENT_CONFIG) },
    { path: p.ovsBootstrap, mode: 0o700, contents: Buffer.from(ovsBootstrapScript(flavor)) },
  ]
  for (const c of [...(inputs.certificates ?? [])].sort((a, b) => a.name.localeCompare(b.name))) {
    files.push({ path: `${p.certsDir}/${c.name}`, mode: 0o600, contents: c.contents })
  }
  if (flavor) {
    files.push({ path: p.flavor, mode: 0o644, contents: Buffer.from(JSON.stringify(flavor, null, 2) + '\n') })
    const sysctl = flavor.spec.sysctl?.parameters ?? []
    if (sysctl.length) files.push({ path: p.sysctl, mode: 0o644, contents: Buffer.from(sysctl.map((l) => l.trim()).join('\n') + '\n') })
    for (const f of flavor.spec.configFiles ?? []) {
      files.push({ path: f.path, mode: parseMode(f.permissions, 0o644), contents: Buffer.from(f.raw ?? ''), append: f.operation === 'append' })
    }
  }
  const kernelArguments = [...(flavor?.spec.grub?.kernelParameters ?? [])]
  if (kernelArguments.length) files.push({ path: p.kernelArgs, mode: 0o644, contents: Buffer.from(kernelArguments.join('\n') + '\n') })
  const seen = new Set<string>()
  for (const f of files) {
    if (seen.has(f.path))
      throw new IgnitionInputError(`two files for ${f.path}: a flavor configFile may not repeat a path or reuse one of the appliance's`, [
        { path: 'spec.configFiles', message: `duplicate path ${f.path}` },
      ])
    seen.add(f.path)
  }
  const listen = inputs.listen ?? DEFAULT_LISTEN
  if (!/^[0-9A-Za-z.:[\]-]+:\d{1,5}$/.test(listen)) throw new IgnitionInputError(`listen address ${JSON.stringify(listen)} is not host:port`)
  const units: PlanUnit[] = [
    { name: UNITS.ovsBootstrap, contents: ovsBootstrapUnit(), enabled: true },
    { name: UNITS.appliance, contents: applianceUnit(listen), enabled: true },
  ]
  return { files, units, kernelArguments }
}
