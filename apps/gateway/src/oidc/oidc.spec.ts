import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConfigError } from '@studio/config';
import { loadServiceConfig } from '@studio/nest';
import { createServer } from 'node:net';
import { OidcVerifier, oidcSettings } from '../auth/oidc';
import { BEARER_TOKEN_VERIFIER } from '../auth/bearer-verifier';
import { gatewayService } from '../gateway.service';
import { applyHttpConventions } from '../http/problem-details';
import { OidcModule } from './oidc.module';

const BASE = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  MONGO_URL: 'mongodb://127.0.0.1:1',
  REDIS_URL: 'redis://127.0.0.1:1',
  SERVICE_TOKEN: 'oidc-spec-service-token-0123456789abcdef',
};
const config = (env: Record<string, string>) => loadServiceConfig(gatewayService, { ...BASE, ...env });

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
    });
  });
}

describe('OIDC configuration', () => {
  it('is off without OIDC_ISSUER', () => {
    expect(oidcSettings(config({}))).toBeNull();
  });

  it('reads the issuer exactly, with defaults for the rest', () => {
    const settings = oidcSettings(config({ OIDC_ISSUER: 'https://login.example.com/realms/studio/', OIDC_AUDIENCE: 'studio-api' }));
    expect(settings).toEqual({
      issuer: 'https://login.example.com/realms/studio/',
      audience: 'studio-api',
      clientId: 'studio-web',
      scope: 'openid profile email',
      tenantClaim: 'tenant',
      roleClaim: 'role',
      discoveryUrl: 'https://login.example.com/realms/studio/.well-known/openid-configuration',
      jwksUrl: null,
      jwksCacheMaxAgeMs: 600_000,
      jwksCooldownMs: 30_000,
      clockToleranceMs: 5_000,
      algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'],
    });
  });

  it('requires the audience with the issuer', () => {
    expect(() => oidcSettings(config({ OIDC_ISSUER: 'https://login.example.com' }))).toThrow(
      /OIDC_AUDIENCE is required when OIDC_ISSUER is set/,
    );
  });

  it('names a bad variable: a symmetric algorithm, an issuer that is no URL, a claim with a space', () => {
    expect(() => config({ OIDC_ALGORITHMS: 'RS256,HS256' })).toThrow(ConfigError);
    expect(() => config({ OIDC_ALGORITHMS: 'RS256,HS256' })).toThrow(/OIDC_ALGORITHMS/);
    expect(() => config({ OIDC_ISSUER: 'login.example.com' })).toThrow(/OIDC_ISSUER/);
    expect(() => config({ OIDC_ROLE_CLAIM: 'my role' })).toThrow(/OIDC_ROLE_CLAIM/);
    expect(config({ OIDC_ALGORITHMS: ' ES256 , EdDSA ', OIDC_CLOCK_TOLERANCE_MS: '0' })).toMatchObject({
      OIDC_ALGORITHMS: ['ES256', 'EdDSA'],
      OIDC_CLOCK_TOLERANCE_MS: 0,
    });
  });
});

describe('GET /v1/auth/config', () => {
  async function appWith(env: Record<string, string>): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({ imports: [OidcModule.forRoot(config(env))] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    applyHttpConventions(app);
    await app.listen(0, '127.0.0.1');
    return app;
  }

  it('answers oidc: null when OIDC is off, and provides no verifier', async () => {
    const app = await appWith({});
    try {
      expect(app.get(BEARER_TOKEN_VERIFIER)).toBeNull();
      const res = await fetch(`${await app.getUrl()}/v1/auth/config`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ apiKeys: true, oidc: null });
    } finally {
      await app.close();
    }
  });

  it('answers 503 naming the provider when its discovery document cannot be read', async () => {
    const port = await closedPort();
    const app = await appWith({ OIDC_ISSUER: `http://127.0.0.1:${port}`, OIDC_AUDIENCE: 'urn:studio' });
    try {
      expect(app.get(BEARER_TOKEN_VERIFIER)).toBeInstanceOf(OidcVerifier);
      const res = await fetch(`${await app.getUrl()}/v1/auth/config`);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.headers.get('retry-after')).toBe('5');
      const body = (await res.json()) as { detail: string };
      expect(body.detail).toContain(`http://127.0.0.1:${port}/.well-known/openid-configuration did not answer`);
    } finally {
      await app.close();
    }
  });
});
