export const GATEWAY_LIMITS = Symbol('GATEWAY_LIMITS');

export interface GatewayLimits {
  maxDocumentBytes: number;
  /** How long an upload waits for the broker to take its event before answering 503. */
  publishTimeoutMs: number;
}
