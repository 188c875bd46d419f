/**
 * The podman API service an appliance starts on its socket (`podman system service`) outlives a kill -9 of that
 * appliance: tests stop it by pid, found by the socket on its command line. Also: whether podman is installed.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

export const podmanInstalled = (): boolean => spawnSync('podman', ['--version']).status === 0

export function stopPodmanService(socketPath: string): void {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(`unix://${socketPath}`)) process.kill(Number(pid), 'SIGTERM')
    } catch {
      // gone meanwhile
    }
  }
}
