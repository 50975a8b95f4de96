/** The administration key every test gateway is started with (ADMIN_API_KEY; at least 24 characters). */
export const TEST_ADMIN_API_KEY = 'e2e-admin-key-0123456789abcdef';

/** Roles of the gateway (apps/gateway/src/auth/permissions.ts). */
export type TestRole = 'viewer' | 'curator' | 'red-teamer' | 'operator' | 'admin';

/**
 * A new API key of `tenant` with `role`, created through the gateway's platform bootstrap
 * endpoint (POST /v1/admin/tenants/{tenant}/keys with the x-admin-key): the key itself.
 */
export async function issueKey(gatewayUrl: string, tenant: string, role: TestRole, adminKey = TEST_ADMIN_API_KEY): Promise<string> {
  const res = await fetch(`${gatewayUrl}/v1/admin/tenants/${encodeURIComponent(tenant)}/keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-admin-key': adminKey },
    body: JSON.stringify({ name: `e2e ${role} of ${tenant}`, role }),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`the gateway did not issue a ${role} key of ${tenant}: ${res.status} ${text}`);
  return (JSON.parse(text) as { key: string }).key;
}
