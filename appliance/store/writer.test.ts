import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import type { WatchEvent } from './watch.js'
import { Writer } from './writer.js'

const FULL = 2
const NORMAL = 1

describe('Writer durability modes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'writer-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  function open() {
    const db = new BetterSqlite3(join(dir, `w-${Math.random()}.db`))
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.exec(`CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER); INSERT INTO counters VALUES ('resourceVersion', 0);
             CREATE TABLE t (v INTEGER)`)
    const delivered: WatchEvent[][] = []
    return { db, writer: new Writer(db, (e) => delivered.push(e)), sync: () => db.pragma('synchronous', { simple: true }) as number }
  }

  it('commits a non-durable write without fsync and restores FULL for the next one, also after a throw', () => {
    const { db, writer, sync } = open()
    const seen: number[] = []
    writer.run(
      () => {
        seen.push(sync())
        db.prepare('INSERT INTO t VALUES (1)').run()
      },
      { durable: false },
    )
    expect(seen).toEqual([NORMAL])
    expect(sync()).toBe(FULL)
    expect(() =>
      writer.run(
        () => {
          throw new Error('boom')
        },
        { durable: false },
      ),
    ).toThrow('boom')
    expect(sync()).toBe(FULL)
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 1 })
    db.close()
  })

  it('keeps an outer durable transaction durable when a nested write asks for less', () => {
    const { db, writer, sync } = open()
    const seen: number[] = []
    writer.run(() => {
      writer.run(() => seen.push(sync()), { durable: false })
      seen.push(sync())
    })
    expect(seen).toEqual([FULL, FULL])
    db.close()
  })
})
