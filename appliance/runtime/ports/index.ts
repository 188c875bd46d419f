export { runCommand, type CommandRunner } from './command.js'
export { deleteNetns, listLinks, listNetns, readLink } from './link.js'
export { hbnPatchNames, ifNameProblem, isServiceVethName, OVN_PATCH, patchPortNames, pfRepresentorName, serviceVethName, vfRepresentorName } from './names.js'
export { ensureServiceVeth, removeServiceVeth } from './veth-provider.js'
