import type { WebhookEventType } from './events.js'

/** An endpoint as owners and operators see it: never its secret. */
export interface WebhookEndpoint {
  id: string
  teamId: number
  url: string
  events: WebhookEventType[]
  enabled: boolean
  disabledAt: Date | null
  disabledReason: string | null
  createdAt: Date
  updatedAt: Date
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed'

export interface WebhookDelivery {
  id: string
  endpointId: string
  eventType: string
  payload: string
  status: WebhookDeliveryStatus
  attempts: number
  responseStatus: number | null
  latencyMs: number | null
  error: string | null
  createdAt: Date
  lastAttemptAt: Date | null
}
