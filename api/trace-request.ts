/**
 * The body of `POST /apis/appliance/v1/trace` (`dpuctl trace`), checked at the edge: a malformed sample packet
 * is a 400 naming the word that is wrong, before anything reaches ovs-vswitchd's control socket. The packet is
 * ovs-ofctl flow syntax: comma-separated `field` or `field=value` words (`arp`, `dl_src=02:00:00:00:00:01`),
 * without in_port, which the appliance sets from the FROM port. Only such words pass, so the packet can never
 * be read as an ofproto/trace option (`-generate`) or a second argument.
 */
import { z } from 'zod'
import { DEFAULT_NAMESPACE, NameSchema } from './meta.js'

const FIELD_WORD = /^[a-z][a-z0-9_]*(=[A-Za-z0-9_.:/x-]+)?$/
const MAX_PACKET_LENGTH = 512

/**
 * What is wrong with a sample packet, or undefined when it is a list of ovs-ofctl flow words.
 * @example tracePacketProblem('arp,dl_src 02:00:00:00:00:01') // 'word 2 "dl_src 02:00:00:00:00:01" is not ...'
 */
export function tracePacketProblem(packet: string): string | undefined {
  if (packet.trim() === '') return 'must not be empty'
  if (packet.length > MAX_PACKET_LENGTH) return `must be at most ${MAX_PACKET_LENGTH} characters`
  for (const [i, raw] of packet.split(',').entries()) {
    const word = raw.trim()
    if (word === '') return `word ${i + 1} is empty (two commas in a row, or a comma at an end)`
    if (!FIELD_WORD.test(word)) return `word ${i + 1} "${word}" is not an ovs-ofctl field or field=value (e.g. dl_dst=ff:ff:ff:ff:ff:ff)`
    if (/^in_port(=|$)/.test(word)) return `word ${i + 1} "${word}": in_port is set from the FROM port, leave it out`
  }
  return undefined
}

export const TraceRequestSchema = z.object({
  chain: NameSchema,
  namespace: NameSchema.default(DEFAULT_NAMESPACE),
  /** A ServiceInterface of the chain (name or namespace/name) or the port's selector `k=v[,k=v]`. */
  from: z.string().min(1, 'required: the port the packet enters by'),
  packet: z
    .string()
    .optional()
    .superRefine((p, ctx) => {
      const problem = p === undefined ? undefined : tracePacketProblem(p)
      if (problem) ctx.addIssue({ code: 'custom', message: problem })
    }),
})
