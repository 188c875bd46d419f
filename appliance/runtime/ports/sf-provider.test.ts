import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { CommandResult, CommandRunner } from './command.js'
import { CommandFailedError, InvalidNameError, UnexpectedOutputError } from './errors.js'
import {
  applySf,
  findSfPort,
  parseDevlinkPorts,
  planSfCommands,
  planSfRemoval,
  removeSf,
  type DevlinkPort,
} from './sf-provider.js'

// See testdata/README.md for where this sample comes from.
const SAMPLE = readFileSync(new URL('./testdata/devlink-port-show.json', import.meta.url), 'utf8')
const PF = 'pci/0000:03:00.0'

describe('parseDevlinkPorts', () => {
  const ports = parseDevlinkPorts(SAMPLE)

  it('reads every port with its handle, device and flavour', () => {
    expect(ports.map((p) => [p.handle, p.flavour, p.netdev])).toEqual([
      ['pci/0000:03:00.0/65535', 'physical', 'p0'],
      ['pci/0000:03:00.0/4095', 'pcipf', 'pf0hpf'],
      ['pci/0000:03:00.0/4096', 'pcivf', 'pf0vf0'],
      ['pci/0000:03:00.0/229409', 'pcisf', 'en3f0pf0sf4'],
      ['pci/0000:03:00.0/229410', 'pcisf', 'en3f0pf0sf5'],
      ['pci/0000:03:00.1/131071', 'physical', 'p1'],
    ])
  })

  it('reads SF attributes and the function state', () => {
    expect(ports[3]).toEqual({
      handle: 'pci/0000:03:00.0/229409',
      device: PF,
      flavour: 'pcisf',
      netdev: 'en3f0pf0sf4',
      controller: 0,
      pfnum: 0,
      sfnum: 4,
      vfnum: undefined,
      hwAddr: '02:5e:11:00:00:04',
      state: 'active',
      opstate: 'attached',
    } satisfies DevlinkPort)
    expect(ports[2]?.vfnum).toBe(0)
  })

  it('refuses output that is not devlink port JSON, naming the command', () => {
    expect(() => parseDevlinkPorts('pci/0000:03:00.0/1: type eth')).toThrow(UnexpectedOutputError)
    expect(() => parseDevlinkPorts('{"dev":{}}')).toThrow(/unexpected JSON shape/)
    expect(() => parseDevlinkPorts('{"port":{"nohandle":{"flavour":"pcisf"}}}')).toThrow(/not <bus>\/<device>\/<index>/)
    try {
      parseDevlinkPorts('nope')
    } catch (err) {
      expect((err as UnexpectedOutputError).context).toMatchObject({ command: 'devlink -j port show' })
    }
  })
})

describe('findSfPort', () => {
  const ports = parseDevlinkPorts(SAMPLE)
  it('matches device, pfnum and sfnum, accepting a bare PCI address', () => {
    expect(findSfPort(ports, { pf: PF, pfnum: 0, sfnum: 4 })?.netdev).toBe('en3f0pf0sf4')
    expect(findSfPort(ports, { pf: '0000:03:00.0', pfnum: 0, sfnum: 5 })?.netdev).toBe('en3f0pf0sf5')
    expect(findSfPort(ports, { pf: PF, pfnum: 0, sfnum: 6 })).toBeUndefined()
    expect(findSfPort(ports, { pf: 'pci/0000:03:00.1', pfnum: 0, sfnum: 4 })).toBeUndefined()
    expect(findSfPort(ports, { pf: PF, pfnum: 0, sfnum: 4, controller: 1 })).toBeUndefined()
  })
})

describe('planSfCommands', () => {
  const ports = parseDevlinkPorts(SAMPLE)

  it('adds a missing SF', () => {
    expect(planSfCommands({ pf: PF, pfnum: 0, sfnum: 7, mac: '02:5E:11:00:00:07' }, ports)).toEqual([
      ['devlink', 'port', 'add', PF, 'flavour', 'pcisf', 'pfnum', '0', 'sfnum', '7'],
    ])
    expect(planSfCommands({ pf: PF, pfnum: 0, sfnum: 7, mac: '02:5e:11:00:00:07', controller: 0 }, ports, 'mlxdevm')).toEqual([
      ['mlxdevm', 'port', 'add', PF, 'flavour', 'pcisf', 'pfnum', '0', 'sfnum', '7', 'controller', '0'],
    ])
  })

  it('sets the MAC and activates an inactive SF in one command', () => {
    expect(planSfCommands({ pf: PF, pfnum: 0, sfnum: 5, mac: '02:5e:11:00:00:05' }, ports)).toEqual([
      ['devlink', 'port', 'function', 'set', 'pci/0000:03:00.0/229410', 'hw_addr', '02:5e:11:00:00:05', 'state', 'active'],
    ])
  })

  it('plans nothing for an active SF with the right MAC (case-insensitive)', () => {
    expect(planSfCommands({ pf: PF, pfnum: 0, sfnum: 4, mac: '02:5E:11:00:00:04' }, ports)).toEqual([])
  })

  it('deactivates before changing the MAC of an active SF', () => {
    expect(planSfCommands({ pf: PF, pfnum: 0, sfnum: 4, mac: '02:5e:11:00:00:44' }, ports)).toEqual([
      ['devlink', 'port', 'function', 'set', 'pci/0000:03:00.0/229409', 'state', 'inactive'],
      ['devlink', 'port', 'function', 'set', 'pci/0000:03:00.0/229409', 'hw_addr', '02:5e:11:00:00:44', 'state', 'active'],
    ])
  })

  it('converges: add, then activate, then nothing, as the observed ports change', () => {
    const spec = { pf: PF, pfnum: 0, sfnum: 9, mac: '02:5e:11:00:00:09' }
    let observed: DevlinkPort[] = ports.slice()
    expect(planSfCommands(spec, observed)[0]?.[2]).toBe('add')
    const added: DevlinkPort = {
      handle: 'pci/0000:03:00.0/229415', device: PF, flavour: 'pcisf', netdev: 'en3f0pf0sf9', controller: 0, pfnum: 0,
      sfnum: 9, vfnum: undefined, hwAddr: '00:00:00:00:00:00', state: 'inactive', opstate: 'detached',
    }
    observed = [...observed, added]
    expect(planSfCommands(spec, observed)).toEqual([
      ['devlink', 'port', 'function', 'set', added.handle, 'hw_addr', spec.mac, 'state', 'active'],
    ])
    observed = [...ports, { ...added, hwAddr: spec.mac, state: 'active', opstate: 'attached' }]
    expect(planSfCommands(spec, observed)).toEqual([])
  })

  it('rejects bad input before planning anything', () => {
    expect(() => planSfCommands({ pf: PF, pfnum: 0, sfnum: 4, mac: 'nope' }, ports)).toThrow(InvalidNameError)
    expect(() => planSfCommands({ pf: PF, pfnum: -1, sfnum: 4, mac: '02:00:00:00:00:01' }, ports)).toThrow(/pfnum/)
    expect(() => planSfCommands({ pf: 'pci/0000:03:00.0; reboot', pfnum: 0, sfnum: 4, mac: '02:00:00:00:00:01' }, ports)).toThrow(
      InvalidNameError,
    )
  })
})

describe('planSfRemoval', () => {
  const ports = parseDevlinkPorts(SAMPLE)
  it('deactivates an active SF, then deletes it', () => {
    expect(planSfRemoval({ pf: PF, pfnum: 0, sfnum: 4 }, ports)).toEqual([
      ['devlink', 'port', 'function', 'set', 'pci/0000:03:00.0/229409', 'state', 'inactive'],
      ['devlink', 'port', 'del', 'pci/0000:03:00.0/229409'],
    ])
  })
  it('deletes an inactive SF directly and does nothing for a missing one', () => {
    expect(planSfRemoval({ pf: PF, pfnum: 0, sfnum: 5 }, ports)).toEqual([['devlink', 'port', 'del', 'pci/0000:03:00.0/229410']])
    expect(planSfRemoval({ pf: PF, pfnum: 0, sfnum: 8 }, ports)).toEqual([])
  })
})

/**
 * FAKE eswitch: no BlueField is attached to this machine, so the runner loop is exercised against an
 * in-memory model of what mlx5 does for the four devlink commands we send, seeded from the sample. It keeps
 * the two rules the plan depends on: a new SF starts inactive with a zero MAC, and the MAC of an active
 * function cannot be changed.
 */
class FakeEswitch {
  readonly ran: string[][] = []
  private readonly ports: Record<string, Record<string, unknown>>
  private nextIndex = 229500

  constructor(sample: string) {
    this.ports = (JSON.parse(sample) as { port: Record<string, Record<string, unknown>> }).port
  }

  readonly run: CommandRunner = async (argv) => {
    this.ran.push([...argv])
    const [, ...args] = argv
    const fail = (msg: string): never => {
      throw new CommandFailedError(argv, 1, msg)
    }
    if (args.join(' ') === '-j port show') return this.out(JSON.stringify({ port: this.ports }))
    if (args[0] === 'port' && args[1] === 'add') {
      const [dev, , , , pfnum, , sfnum] = args.slice(2)
      const handle = `${dev}/${this.nextIndex++}`
      this.ports[handle] = {
        type: 'eth', netdev: `en3f0pf${pfnum}sf${sfnum}`, flavour: 'pcisf', controller: 0, pfnum: Number(pfnum),
        sfnum: Number(sfnum), splittable: false, function: { hw_addr: '00:00:00:00:00:00', state: 'inactive', opstate: 'detached' },
      }
      return this.out('')
    }
    if (args[0] === 'port' && args[1] === 'function' && args[2] === 'set') {
      const port = this.ports[args[3] as string] ?? fail('kernel answers: No such device')
      const fn = port.function as Record<string, string>
      for (let i = 4; i < args.length; i += 2) {
        const value = args[i + 1] as string
        if (args[i] === 'hw_addr') {
          if (fn.state === 'active' && value !== fn.hw_addr) fail('Error: mlx5_core: Device is active, hw_addr cannot be changed.')
          fn.hw_addr = value
        } else if (args[i] === 'state') {
          fn.state = value
          fn.opstate = value === 'active' ? 'attached' : 'detached'
        }
      }
      return this.out('')
    }
    if (args[0] === 'port' && args[1] === 'del') {
      if (this.ports[args[2] as string] === undefined) fail('kernel answers: No such device')
      delete this.ports[args[2] as string]
      return this.out('')
    }
    return fail(`fake eswitch does not know: ${argv.join(' ')}`)
  }

  private out(stdout: string): CommandResult {
    return { stdout, stderr: '' }
  }
}

describe('applySf / removeSf against a FAKE eswitch', () => {
  const changes = (fake: FakeEswitch): string[][] => fake.ran.filter((a) => a[1] !== '-j')

  it('adds, activates and reports the representor, then does nothing on the next run', async () => {
    const fake = new FakeEswitch(SAMPLE)
    const spec = { pf: PF, pfnum: 0, sfnum: 12, mac: '02:5e:11:00:00:12' }
    expect(await applySf(spec, { run: fake.run })).toEqual({
      handle: 'pci/0000:03:00.0/229500', representor: 'en3f0pf0sf12', hwAddr: '02:5e:11:00:00:12',
    })
    expect(changes(fake)).toEqual([
      ['devlink', 'port', 'add', PF, 'flavour', 'pcisf', 'pfnum', '0', 'sfnum', '12'],
      ['devlink', 'port', 'function', 'set', 'pci/0000:03:00.0/229500', 'hw_addr', '02:5e:11:00:00:12', 'state', 'active'],
    ])
    fake.ran.length = 0
    await applySf(spec, { run: fake.run })
    expect(changes(fake)).toEqual([])
  })

  it('changes the MAC of an active SF without tripping the active-function rule', async () => {
    const fake = new FakeEswitch(SAMPLE)
    const got = await applySf({ pf: PF, pfnum: 0, sfnum: 4, mac: '02:5e:11:00:00:40' }, { run: fake.run })
    expect(got).toMatchObject({ representor: 'en3f0pf0sf4', hwAddr: '02:5e:11:00:00:40' })
    expect(changes(fake).map((a) => a.slice(5).join(' '))).toEqual(['state inactive', 'hw_addr 02:5e:11:00:00:40 state active'])
  })

  it('removes an SF (deactivate, delete) and is idempotent', async () => {
    const fake = new FakeEswitch(SAMPLE)
    expect(await removeSf({ pf: PF, pfnum: 0, sfnum: 4 }, { run: fake.run })).toBe(true)
    expect(await removeSf({ pf: PF, pfnum: 0, sfnum: 4 }, { run: fake.run })).toBe(false)
    expect(findSfPort(parseDevlinkPorts((await fake.run(['devlink', '-j', 'port', 'show'])).stdout), { pf: PF, pfnum: 0, sfnum: 4 })).toBeUndefined()
  })

  it('passes a devlink failure through with the command that failed', async () => {
    const fake = new FakeEswitch(SAMPLE)
    const run: CommandRunner = (argv, o) =>
      argv[2] === 'add' ? Promise.reject(new CommandFailedError(argv, 1, 'Error: mlx5_core: SF limit reached.')) : fake.run(argv, o)
    const err = await applySf({ pf: PF, pfnum: 0, sfnum: 13, mac: '02:5e:11:00:00:13' }, { run }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CommandFailedError)
    expect((err as CommandFailedError).context.command).toBe(`devlink port add ${PF} flavour pcisf pfnum 0 sfnum 13`)
  })
})
