/**
 * dpuctl loads a part's commands only for the words that part owns (bin/commands.ts): every command a part
 * exports must start with one of its words, and no word may belong to two parts, or a command would be
 * unreachable. And the appliance daemon's part loads neither the hub, the Kubernetes client nor the image builder.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../test/support/appliance-process.js'
import { COMMANDS, PARTS } from './commands.js'

describe('dpuctl command parts', () => {
  it("reach every command through its first word, and only its part's commands", async () => {
    const all = await COMMANDS(undefined)
    expect(all.length).toBeGreaterThan(20)
    const owner = new Map<string, number>()
    for (const [i, part] of PARTS.entries()) {
      for (const w of part.words) {
        expect(owner.get(w), `word "${w}" in two parts`).toBeUndefined()
        owner.set(w, i)
      }
      for (const c of await part.load()) expect(part.words, `${c.path.join(' ')}: first word not listed for its part`).toContain(c.path[0])
    }
    for (const c of all) {
      const found = await COMMANDS(c.path[0])
      expect(found.map((f) => f.path.join(' '))).toContain(c.path.join(' '))
      expect(found.length).toBeLessThan(all.length)
    }
    // An unknown word gets every command (for the help text).
    expect((await COMMANDS('no-such-command')).length).toBe(all.length)
  })

  it("loads neither the hub, Kubernetes nor the image builder for the appliance's commands; help loads them all", () => {
    // Every module URL the child's ESM loader resolves (a resolve hook, logged to a file), after loading one part.
    const hook = `import { appendFileSync } from 'node:fs'
      export async function resolve(specifier, context, next) {
        const r = await next(specifier, context)
        appendFileSync(process.env.LOADED_LOG, r.url + '\\n')
        return r
      }`
    const registerHook = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)})`
    const dir = mkdtempSync(join(tmpdir(), 'commands-'))
    const loadedBy = (word: string | undefined): string[] => {
      const log = join(dir, `${word ?? 'all'}.log`)
      const probe = `const { COMMANDS } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'bin', 'commands.ts')).href)})
        console.log(JSON.stringify((await COMMANDS(${JSON.stringify(word)})).map((c) => c.path.join(' '))))`
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', `data:text/javascript,${encodeURIComponent(registerHook)}`, '--input-type=module', '-e', probe], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        env: { ...process.env, LOADED_LOG: log },
        timeout: 120_000,
      })
      expect(r.status, r.stderr).toBe(0)
      if (word === 'appliance') expect((JSON.parse(r.stdout.trim().split('\n').pop()!) as string[]).sort()).toEqual(['appliance cleanup', 'appliance run'])
      return readFileSync(log, 'utf8').split('\n').filter(Boolean)
    }
    try {
      const heavy = (urls: string[]) => urls.filter((u) => /@kubernetes\/client-node|\/federation\/hub\/|\/image\/|\/bin\/demo/.test(u))
      const appliance = loadedBy('appliance')
      expect(appliance.some((u) => u.endsWith('/bin/appliance.ts'))).toBe(true)
      expect(heavy(appliance)).toEqual([])
      // The same probe sees them when every part is loaded (help): the check above can fail.
      expect(heavy(loadedBy(undefined)).length).toBeGreaterThan(10)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 240_000)
})
