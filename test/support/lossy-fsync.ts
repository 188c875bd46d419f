/**
 * Builds the lossy-fsync LD_PRELOAD shim (lossy-fsync/lossy-fsync.c) into a temporary directory and gives the
 * environment that runs a child on it. See the C file for the model: after a SIGKILL, the durable directory
 * holds every file as of its last fsync/fdatasync and nothing written after it. Needs gcc and libc headers
 * (Debian: gcc, libc6-dev).
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { REPO_ROOT } from './appliance-process.js'

const SOURCE = join(REPO_ROOT, 'test', 'support', 'lossy-fsync', 'lossy-fsync.c')

/** Compiles the shim into `dir`; returns the path of the shared object. */
export function buildLossyFsync(dir: string): string {
  const out = join(dir, 'lossy-fsync.so')
  try {
    execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-Wall', '-Werror', '-o', out, SOURCE, '-ldl'], { stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string }
    throw new Error(`cannot build ${SOURCE} (needs gcc and libc6-dev): ${e.stderr?.toString() || e.message}`)
  }
  return out
}

/** Environment for a child whose files in `srcDir` reach `durableDir` only when it syncs them. */
export function lossyEnv(shim: string, srcDir: string, durableDir: string): Record<string, string> {
  return { LD_PRELOAD: shim, LOSSY_SRC_DIR: srcDir, LOSSY_DURABLE_DIR: durableDir }
}
