/**
 * Child process of the store durability test: opens the store at argv[2] and applies the plan batch by batch,
 * writing `ack <k>` to stdout (synchronously) only after `apply` returned, i.e. after the commit. The parent
 * kills it with SIGKILL at a random moment. STORE_SYNCHRONOUS=OFF opens the store without syncing (the test's
 * negative control: its harness must see acknowledged writes lost).
 */
import { writeSync } from 'node:fs'
import { openStore } from '../../appliance/store/index.js'
import { BATCHES, planBatch } from './store-durability-plan.js'

const synchronous = process.env.STORE_SYNCHRONOUS === 'OFF' ? 'OFF' : 'FULL'
const store = openStore(process.argv[2]!, { synchronous })
writeSync(1, 'ready\n')
for (let k = 0; k < BATCHES; k++) {
  store.objects.apply(planBatch(k), { origin: 'local' })
  writeSync(1, `ack ${k}\n`)
}
store.close()
writeSync(1, 'done\n')
