import { safeName } from '@studio/contracts';
import { z } from 'zod';
import { ROLES } from './permissions';

const roleError = { error: `must be one of ${ROLES.join(', ')}` };

export const CreateKeyRequest = z
  .object({
    name: safeName(z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters')).describe(
      'A name for the key: who or what uses it',
    ),
    role: z.enum(ROLES, roleError).describe('The role the key gives its holder'),
  })
  .strict();
export type CreateKeyRequest = z.infer<typeof CreateKeyRequest>;

export const ChangeKeyRoleRequest = z.object({ role: z.enum(ROLES, roleError).describe('The new role of the key') }).strict();
export type ChangeKeyRoleRequest = z.infer<typeof ChangeKeyRoleRequest>;

export const KeyId = z.string().regex(/^[0-9a-f]{16}$/, 'must be an API key id (16 hex digits)');

export const ApiKeyView = z.object({
  id: z.string(),
  tenant: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  createdAt: z.string().describe('ISO time'),
  createdBy: z.string().describe('The subject that created it (key:<id>, oidc:<sub>, platform-admin)'),
  revokedAt: z.string().nullable(),
  revokedBy: z.string().nullable(),
});

export const CreatedKey = ApiKeyView.extend({
  key: z.string().describe('The API key itself (sk-studio-<id>_<secret>): shown once, never stored, never shown again'),
});

export const AuditLogQuery = z
  .object({
    action: z
      .string()
      .regex(/^[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)+$/, 'must be an action such as key.created')
      .optional(),
    limit: z
      .string()
      .regex(/^\d+$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000'))
      .default(100),
  })
  .strict();
export type AuditLogQuery = z.infer<typeof AuditLogQuery>;
