import type { AuditSettings } from '@studio/pipeline';

export const AUDIT_SETTINGS = Symbol('AUDIT_SETTINGS');
export type { AuditSettings };
