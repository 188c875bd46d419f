/** The parts of a Service's spec the services code reads, named once from the api/ schema. */
import type { ServiceSpec } from '../../api/resources/service.js'

export type ServiceSpecView = ServiceSpec
export type ContainerView = ServiceSpec['template']['spec']['containers'][number]
export type ProbeView = NonNullable<ContainerView['readinessProbe']>
