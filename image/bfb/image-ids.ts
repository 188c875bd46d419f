/**
 * BFB image ids in canonical emission order (reference/image.md §2.4, pinned to bfscripts mlx-mkbfb@390bf95).
 * Ids were reassigned over the years, so an id missing here is kept as opaque bytes, never rejected.
 */
export const BFB_IMAGE_IDS = [
  { name: 'psc-bl', id: 36, description: 'PSC bootloader' },
  { name: 'psc-fw', id: 37, description: 'PSC framework' },
  { name: 'bl2r-cert', id: 31, description: 'RIoT Core (BL2R) content certificate' },
  { name: 'bl2r', id: 30, description: 'RIoT Core (BL2R) bin' },
  { name: 'bl2r-auth-cert', id: 42, description: 'BL2R AUTHCERT DER cert' },
  { name: 'bl2-cert', id: 6, description: 'Trusted Boot Firmware BL2 certificate' },
  { name: 'bl2', id: 1, description: 'Trusted Boot Firmware BL2' },
  { name: 'sys', id: 29, description: 'Running system part number or PSID' },
  { name: 'bl2-auth-cert', id: 43, description: 'BL2 AUTHCERT DER cert' },
  { name: 'ddr-cert', id: 38, description: 'DDR images content certificate' },
  { name: 'ddr_ini', id: 32, description: 'DDR parameter file' },
  { name: 'snps_images', id: 33, description: 'Combined SNPS images' },
  { name: 'ddr5_snps_images', id: 40, description: 'DDR5 combined SNPS images' },
  { name: 'ddr_ate_imem', id: 34, description: 'Analog Test Engine instructions' },
  { name: 'ddr_ate_dmem', id: 35, description: 'Analog Test Engine data' },
  { name: 'bl30-key-cert', id: 8, description: 'SCP BL3-0 key cert' },
  { name: 'bl30-cert', id: 12, description: 'SCP BL3-0 cert' },
  { name: 'bl30', id: 2, description: 'SCP firmware BL3-0' },
  { name: 'psc-app', id: 39, description: 'PSC application' },
  { name: 'psc-certs', id: 53, description: 'PSC attestation certificates' },
  { name: 'trusted-key-cert', id: 7, description: 'Trusted key cert' },
  { name: 'bl31-key-cert', id: 9, description: 'BL3-1 key cert' },
  { name: 'bl31-cert', id: 13, description: 'BL3-1 content cert' },
  { name: 'bl31', id: 3, description: 'EL3 runtime firmware BL3-1' },
  { name: 'bl32-key-cert', id: 10, description: 'BL3-2 key cert' },
  { name: 'bl32-cert', id: 14, description: 'BL3-2 content cert' },
  { name: 'bl32', id: 4, description: 'BL3-2 trusted OS' },
  { name: 'bl33-key-cert', id: 11, description: 'BL3-3 key cert' },
  { name: 'bl33-cert', id: 15, description: 'BL3-3 content cert' },
  { name: 'bl33', id: 5, description: 'Non-trusted firmware BL3-3 (UEFI)' },
  { name: 'capsule', id: 52, description: 'UEFI capsule image' },
  { name: 'boot-acpi', id: 55, description: 'Name of the ACPI table' },
  { name: 'boot-dtb', id: 56, description: 'Name of the dtb file' },
  { name: 'boot-desc', id: 57, description: 'Default boot menu item description' },
  { name: 'boot-path', id: 58, description: 'Boot image path' },
  { name: 'boot-args', id: 59, description: 'Kernel command line' },
  { name: 'boot-timeout', id: 60, description: 'Boot menu timeout' },
  { name: 'uefi-tests', id: 61, description: 'UEFI tests to run' },
  { name: 'nicfw', id: 41, description: 'NIC firmware image' },
  { name: 'ramdisk', id: 54, description: 'RAM-disk image' },
  { name: 'dpu-gi', id: 49, description: 'DPU golden image' },
  { name: 'cfg-gi', id: 48, description: 'Config golden image' },
  { name: 'info', id: 50, description: 'BFB versioning info' },
  { name: 'image', id: 62, description: 'Linux kernel' },
  { name: 'initramfs', id: 63, description: 'In-memory filesystem' },
  { name: 'upgrade-image', id: 51, description: 'Runtime upgrade image' },
] as const

const BY_ID = new Map<number, { name: string; order: number }>(BFB_IMAGE_IDS.map((e, order) => [e.id, { name: e.name, order }]))
const BY_NAME = new Map<string, number>(BFB_IMAGE_IDS.map((e) => [e.name, e.id]))

/** The option name of an id (`initramfs`), or `image_id_<n>` for ids the table does not know. */
export function imageName(id: number): string {
  return BY_ID.get(id)?.name ?? `image_id_${id}`
}

/** Position in canonical order, or undefined for an unknown id. */
export function canonicalOrder(id: number): number | undefined {
  return BY_ID.get(id)?.order
}

/** Id for a name (`initramfs`, or `image_id_70` for unknown ids); undefined if the name means nothing. */
export function imageIdByName(name: string): number | undefined {
  const known = BY_NAME.get(name)
  if (known !== undefined) return known
  const m = /^image_id_(\d{1,3})$/.exec(name)
  return m && Number(m[1]) < 256 ? Number(m[1]) : undefined
}
