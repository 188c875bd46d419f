export { runCommand, type CommandOptions, type CommandResult, type CommandRunner } from './command.js'
export { CommandFailedError, InvalidNameError, UnexpectedOutputError } from './errors.js'
export { deleteLink, deleteNetns, disableOffloads, ensureNetns, listLinks, listNetns, moveToNetns, readLink, readNetnsIds, setMac, setMtu, setUp, type LinkInfo, type NetnsOptions } from './link.js'
export {
  hbnPatchNames,
  IFNAME_MAX_BYTES,
  ifNameProblem,
  isServiceVethName,
  OVN_PATCH,
  patchPortNames,
  pfRepresentorName,
  serviceVethName,
  validateIfName,
  validateNetnsName,
  vfRepresentorName,
} from './names.js'
export { ensureServiceVeth, removeServiceVeth, type HostCreation, type ServiceVeth, type ServiceVethAction, type ServiceVethSpec } from './veth-provider.js'
