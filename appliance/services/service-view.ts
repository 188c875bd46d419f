/**
 * What the services reconciler reads of a Service's spec. TODO(#15): replace with the api/ schema's inferred type
 * once the kind lands.
 */
export interface ProbeView {
  exec?: { command: string[] }
  tcpSocket?: { port: number | string; host?: string }
  httpGet?: { path?: string; port: number | string; host?: string; scheme?: 'HTTP' | 'HTTPS' }
  initialDelaySeconds?: number
  periodSeconds?: number
  timeoutSeconds?: number
  successThreshold?: number
  failureThreshold?: number
}

export interface ContainerView {
  name: string
  image: string
  command?: string[]
  args?: string[]
  env?: Array<{ name: string; value?: string }>
  workingDir?: string
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> }
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>
  securityContext?: { privileged?: boolean; capabilities?: { add?: string[]; drop?: string[] } }
  readinessProbe?: ProbeView
  livenessProbe?: ProbeView
  startupProbe?: ProbeView
}

export interface ServiceSpecView {
  serviceID: string
  runtime?: 'podman' | 'process'
  interfaces?: Array<{ network: string; interfaceName: string }>
  configMaps?: Record<string, Record<string, string>>
  template: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }
    spec: {
      containers: ContainerView[]
      volumes?: Array<{
        name: string
        hostPath?: { path: string; type?: string }
        emptyDir?: Record<string, unknown>
        configMap?: { name: string; items?: Array<{ key: string; path: string }> }
      }>
      restartPolicy?: 'Always' | 'OnFailure' | 'Never'
      terminationGracePeriodSeconds?: number
    }
  }
}
