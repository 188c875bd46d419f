/**
 * How the appliance daemon's Node.js process is started: the V8 flags and the environment that only take effect
 * when given at start-up (V8 sizes its young generation when the heap is set up, glibc reads MALLOC_ARENA_MAX
 * at the first malloc), so `v8.setFlagsFromString` inside the daemon cannot set them. One definition for every
 * way the daemon is started: the systemd unit (ignition/appliance-plan.ts, which the BFB and the RHCOS layer
 * install too) and the tests and benchmarks (test/support/appliance-process.ts). A daemon started by hand
 * without them runs, with a larger footprint. Lives in api/ because both sides read it and it imports nothing.
 *
 * Why each (issue #13, DESIGN.md §8 RSS <= 96 MiB with 1,000 chains; BENCHMARKS.md, chains memory):
 * - `--max-semi-space-size=2`: the young generation's semi-spaces grow to 16 MiB each by default, and a daemon
 *   that allocates in bursts (a 1,000-chain create) keeps them committed: 30 MiB of heap total above heap used.
 * - Not `--optimize-for-size` on the command line: it saved another 2-4 MiB but made flow programming ~1.3x
 *   slower (bench/flows bulk 100k: 1.08-1.20x of ovs-ofctl against 0.79-0.86x). bin/appliance.ts sets it at run
 *   time instead, where it shapes heap growth without that cost (0.86x measured).
 * - `MALLOC_ARENA_MAX=2`: glibc gives each thread that mallocs (libuv's pool, V8's GC helpers) its own arena,
 *   whose freed pages stay resident; two arenas hold the native allocations (SQLite, OpenSSL, zlib) of the
 *   daemon's few threads.
 * - `MALLOC_TRIM_THRESHOLD_` / `MALLOC_MMAP_THRESHOLD_` at 128 KiB (glibc's initial values): fixed, they stop
 *   glibc from raising both (up to 32 MiB) after the first large free, so blocks of 128 KiB and more (OVSDB and
 *   OpenFlow message buffers, V8's compiler zones) go back to the kernel when freed instead of staying resident.
 */
export const APPLIANCE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2']

export const APPLIANCE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '131072', MALLOC_MMAP_THRESHOLD_: '131072' }
