export const GATEWAY_LIMITS = Symbol('GATEWAY_LIMITS');

export interface GatewayLimits {
  maxDocumentBytes: number;
}
