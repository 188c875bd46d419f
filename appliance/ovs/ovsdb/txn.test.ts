import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { OvsdbAbortedError, OvsdbConstraintViolationError, OvsdbNotationError, OvsdbTimedOutError, OvsdbUnknownColumnError, OvsdbUnknownOperationError } from './errors.js'
import { isRetryable } from '../../../api/errors.js'
import { parseDatabaseSchema } from './schema.js'
import { checkOperationResults, TransactionBuilder, TransactionResult, whereName, whereUuid, type Operation, type OperationResult } from './txn.js'

const schema = parseDatabaseSchema(JSON.parse(readFileSync('/usr/share/openvswitch/vswitch.ovsschema', 'utf8')))
const BR = '0a0b0c0d-0000-4000-8000-000000000002'

describe('TransactionBuilder', () => {
  it('builds inserts with named uuids, a bridge mutate and the next_cfg handshake', () => {
    const txn = new TransactionBuilder(schema)
    const iface = txn.insert('Interface', { name: 'p0', external_ids: { 'dpf-id': 'a' } })
    const port = txn.insert('Port', { name: 'p0', interfaces: [iface] })
    txn.mutate('Bridge', whereUuid(BR), [['ports', 'insert', [port]]])
    txn.incrementNextCfg()
    txn.comment('add p0')
    expect(txn.ops).toEqual([
      { op: 'insert', table: 'Interface', row: { name: 'p0', external_ids: ['map', [['dpf-id', 'a']]] }, 'uuid-name': 'row_1' },
      { op: 'insert', table: 'Port', row: { name: 'p0', interfaces: ['set', [['named-uuid', 'row_1']]] }, 'uuid-name': 'row_2' },
      { op: 'mutate', table: 'Bridge', where: [['_uuid', '==', ['uuid', BR]]], mutations: [['ports', 'insert', ['set', [['named-uuid', 'row_2']]]]] },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] },
      { op: 'select', table: 'Open_vSwitch', where: [], columns: ['next_cfg'] },
      { op: 'comment', comment: 'add p0' },
    ])
    expect(txn.nextCfgIndex).toBe(4)
  })

  it('encodes map key deletes as a set of keys, update rows and conditions through the schema', () => {
    const txn = new TransactionBuilder(schema)
    txn.mutate('Interface', whereName('p0'), [
      ['external_ids', 'delete', ['dpf-id']],
      ['external_ids', 'insert', { owner: 'x' }],
    ])
    txn.update('Bridge', whereName('br-sfc'), { fail_mode: 'secure', protocols: ['OpenFlow14'] })
    txn.delete('Port', [['external_ids', 'includes', { owner: 'x' }]])
    expect(txn.ops).toEqual([
      {
        op: 'mutate',
        table: 'Interface',
        where: [['name', '==', 'p0']],
        mutations: [
          ['external_ids', 'delete', ['set', ['dpf-id']]],
          ['external_ids', 'insert', ['map', [['owner', 'x']]]],
        ],
      },
      { op: 'update', table: 'Bridge', where: [['name', '==', 'br-sfc']], row: { fail_mode: ['set', ['secure']], protocols: ['set', ['OpenFlow14']] } },
      { op: 'delete', table: 'Port', where: [['external_ids', 'includes', ['map', [['owner', 'x']]]]] },
    ])
  })

  it('verify() becomes a wait (until ==, timeout 0) on the columns read', () => {
    const txn = new TransactionBuilder(schema)
    txn.verify('Bridge', { _uuid: BR, name: 'br-sfc', ports: [], external_ids: { a: 'b' } }, ['ports', 'external_ids'])
    expect(txn.ops[0]).toEqual({
      op: 'wait',
      table: 'Bridge',
      where: [['_uuid', '==', ['uuid', BR]]],
      columns: ['ports', 'external_ids'],
      until: '==',
      rows: [{ ports: ['set', []], external_ids: ['map', [['a', 'b']]] }],
      timeout: 0,
    })
  })

  it('refuses unknown columns and values of the wrong type before anything is sent', () => {
    const txn = new TransactionBuilder(schema)
    expect(() => txn.insert('Port', { bogus: 1 })).toThrow(/Port has no column bogus/)
    expect(() => txn.insert('Port', { name: 5 })).toThrow(OvsdbNotationError)
    expect(() => txn.insert('Port', { name: 'x' }, { uuidName: 'bad-name' })).toThrow(/not an identifier/)
  })

  it('encodes schema-less without a schema', () => {
    const txn = new TransactionBuilder()
    txn.insert('Anything', { tags: ['a'], m: { k: 'v' } }, { uuidName: 'x' })
    expect(txn.ops[0]).toEqual({ op: 'insert', table: 'Anything', row: { tags: ['set', ['a']], m: ['map', [['k', 'v']]] }, 'uuid-name': 'x' })
  })
})

describe('checkOperationResults', () => {
  const txn = new TransactionBuilder(schema)
  const br = txn.insert('Bridge', { name: 'br0' })
  txn.mutate('Open_vSwitch', [], [['bridges', 'insert', [br]]])
  const ops: Operation[] = txn.ops

  it('returns nothing for a successful transaction and maps named uuids', () => {
    const results: OperationResult[] = [{ uuid: ['uuid', BR] }, { count: 1 }]
    expect(checkOperationResults(results, ops)).toEqual([])
    expect(new TransactionResult(results, ops).uuidOf(br)).toBe(BR)
  })

  it('blames the op that wrote a duplicate index value from the trailing commit error (observed shape)', () => {
    const results: OperationResult[] = [
      { uuid: ['uuid', BR] },
      { count: 1 },
      {
        error: 'constraint violation',
        details:
          'Transaction causes multiple rows in "Bridge" table to have identical values (br0) for index on column "name".  First row, with UUID 1, was inserted by this transaction.  Second row, with UUID 2, existed in the database before this transaction and was not modified by the transaction.',
      },
    ]
    const [error, ...rest] = checkOperationResults(results, ops)
    expect(rest).toEqual([])
    expect(error).toBeInstanceOf(OvsdbConstraintViolationError)
    expect(error).toMatchObject({ index: 0, code: 'ovsdb.operation-failed', retryable: false, operation: { op: 'insert', table: 'Bridge', rowName: 'br0', atCommit: true } })
    expect(error!.message).toMatch(/^commit, caused by op 0 \(insert Bridge "br0"\): constraint violation/)
  })

  it('reports an unattributable commit error at index ops.length', () => {
    const [error] = checkOperationResults([{ uuid: ['uuid', BR] }, { count: 1 }, { error: 'constraint violation', details: 'too many rows in Open_vSwitch' }], ops)
    expect(error).toMatchObject({ index: 2, operation: undefined })
  })

  it('maps each RFC error string to its class, code and retryability', () => {
    const waitOps: Operation[] = [{ op: 'wait', table: 'Bridge', where: [], columns: ['name'], until: '==', rows: [], timeout: 0 }, { op: 'abort' }]
    const [timedOut] = checkOperationResults([{ error: 'timed out', details: '"where" clause test failed' }, null], waitOps)
    expect(timedOut).toBeInstanceOf(OvsdbTimedOutError)
    expect(timedOut).toMatchObject({ code: 'ovsdb.conflict', index: 0, operation: { op: 'wait', table: 'Bridge', columns: ['name'] } })
    expect(isRetryable(timedOut)).toBe(true)
    const [aborted] = checkOperationResults([{}, { error: 'aborted', details: 'aborted by request' }], waitOps)
    expect(aborted).toBeInstanceOf(OvsdbAbortedError)
    expect(aborted!.index).toBe(1)
    const [unknownColumn] = checkOperationResults([{ error: 'unknown column', details: 'No column bogus in table Port.', syntax: '{}' }], waitOps)
    expect(unknownColumn).toBeInstanceOf(OvsdbUnknownColumnError)
    expect(unknownColumn!.context).toMatchObject({ syntax: '{}' })
    const [novel] = checkOperationResults([{ error: 'brand new error' }], waitOps)
    expect(novel).toBeInstanceOf(OvsdbUnknownOperationError)
  })
})
