import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/**
 * docker-compose.yml and deploy/k8s/base describe the same system: the same services, each with
 * the same environment variable names, ports, databases and consumer groups. kubectl is not
 * needed: the kustomization's resources are checked to exist and to be well-formed objects.
 */
const ROOT = join(__dirname, '..', '..', '..');
const K8S = join(ROOT, 'deploy', 'k8s', 'base');
const read = (...parts: string[]) => readFileSync(join(ROOT, ...parts), 'utf8');

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { configMapKeyRef?: { name: string; key: string }; secretKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: unknown[];
  resources?: { limits?: Record<string, string | number> };
  readinessProbe?: { httpGet?: { path: string } };
  livenessProbe?: { httpGet?: { path: string } };
}
interface PolicyPeer {
  podSelector?: { matchLabels?: Record<string, string> };
  namespaceSelector?: unknown;
  ipBlock?: unknown;
}
interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: { protocol?: string; port: number }[];
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    type?: string;
    ports?: { port: number }[];
    selector?: Record<string, string>;
    template?: { spec: { containers: Container[]; nodeSelector?: Record<string, string> } };
    // NetworkPolicy
    podSelector?: { matchLabels?: Record<string, string> };
    policyTypes?: string[];
    ingress?: PolicyRule[];
    egress?: PolicyRule[];
  };
}
interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  profiles?: string[];
  healthcheck?: { test: string[] };
  deploy?: { resources?: { reservations?: { devices?: { driver: string; capabilities: string[] }[] } } };
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
const kustomization = parse(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
const manifests: K8sObject[] = kustomization.resources.flatMap((file) =>
  existsSync(join(K8S, file))
    ? parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).map((doc) => {
        if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
        return doc.toJS() as K8sObject;
      })
    : [],
);
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const deployment = (name: string) => byKind('Deployment').find((d) => d.metadata.name === name);
const containerOf = (name: string): Container => {
  const container = deployment(name)?.spec?.template?.spec.containers[0];
  if (!container) throw new Error(`no Deployment with a container for ${name}`);
  return container;
};
const configMap = byKind('ConfigMap')[0];
const secret = byKind('Secret')[0];

/** The services the image can run (deploy/docker/run-service.sh). */
const NEST_SERVICES = (/^\s*([a-z|-]+)\) ;;$/m.exec(read('deploy', 'docker', 'run-service.sh'))?.[1] ?? '').split('|');
const builtServices = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
/** The model runtime's deployments: the training worker and the OpenAI-compatible model server. */
const MODEL_RUNTIME = ['model-runtime', 'model-server'];

describe('kustomization', () => {
  it('lists resources that exist', () => {
    expect(kustomization.resources.length).toBeGreaterThan(0);
    for (const file of kustomization.resources) expect({ file, exists: existsSync(join(K8S, file)) }).toEqual({ file, exists: true });
  });

  it('holds well-formed objects with apiVersion, kind and metadata.name', () => {
    for (const m of manifests) {
      expect(m.apiVersion).toMatch(/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/);
      expect(m.kind).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(m.metadata?.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    expect(byKind('ConfigMap')).toHaveLength(1);
    expect(byKind('Secret')).toHaveLength(1);
  });

  it('has a Deployment and a Service per NestJS service, on the same port, with probes on /health and /ready', () => {
    expect(NEST_SERVICES.sort()).toEqual(['auditor', 'framer', 'gateway', 'instructor', 'ontology', 'reward-model']);
    for (const name of NEST_SERVICES) {
      const container = containerOf(name);
      expect(container.args).toEqual([name]);
      expect(container.livenessProbe?.httpGet?.path).toBe('/health');
      expect(container.readinessProbe?.httpGet?.path).toBe('/ready');
      const port = container.ports?.[0]?.containerPort;
      expect(container.env?.find((e) => e.name === 'PORT')?.value).toBe(String(port));
      const service = byKind('Service').find((s) => s.metadata.name === name);
      expect(service?.spec?.ports?.[0]?.port).toBe(port);
      expect(service?.spec?.selector).toEqual({ 'app.kubernetes.io/name': name });
      expect(existsSync(join(ROOT, 'apps', name, 'src', 'main.ts'))).toBe(true);
    }
  });

  it('only references ConfigMap and Secret keys that exist', () => {
    for (const d of byKind('Deployment')) {
      for (const c of d.spec?.template?.spec.containers ?? []) {
        expect(c.envFrom).toBeUndefined(); // every variable is listed by name
        for (const e of c.env ?? []) {
          const cm = e.valueFrom?.configMapKeyRef;
          const sk = e.valueFrom?.secretKeyRef;
          if (cm)
            expect({
              ref: `${cm.name}/${cm.key}`,
              found: cm.name === configMap?.metadata.name && cm.key in (configMap?.data ?? {}),
            }).toEqual({ ref: `${cm.name}/${cm.key}`, found: true });
          if (sk)
            expect({
              ref: `${sk.name}/${sk.key}`,
              found: sk.name === secret?.metadata.name && sk.key in (secret?.stringData ?? {}),
            }).toEqual({ ref: `${sk.name}/${sk.key}`, found: true });
          if (!cm && !sk) expect(e.value).toEqual(expect.any(String));
        }
      }
    }
  });

  it('serves the model endpoint that LLM_BASE_URL names, from the model runtime image', () => {
    const server = containerOf('model-server');
    expect(server.args?.[0]).toBe('serve');
    const port = server.ports?.[0]?.containerPort;
    expect(byKind('Service').find((s) => s.metadata.name === 'model-server')?.spec?.ports?.[0]?.port).toBe(port);
    expect(configMap?.data?.['LLM_BASE_URL']).toBe(`http://model-server:${port}/v1`);
    expect(compose.services['ontology']?.environment?.['LLM_BASE_URL']).toBe(`http://model-server:${port}/v1`);
  });

  it('runs the model-runtime worker as its own GPU Deployment', () => {
    const spec = deployment('model-runtime')?.spec?.template?.spec;
    expect(spec?.nodeSelector).toBeDefined();
    expect(Object.keys(spec?.nodeSelector ?? {}).length).toBeGreaterThan(0);
    expect(spec?.containers[0]?.resources?.limits?.['nvidia.com/gpu']).toBe(1);
    expect(spec?.containers[0]?.args).toEqual(['worker']);
  });
});

describe('docker-compose.yml and deploy/k8s agree', () => {
  it('run the same services', () => {
    expect(builtServices.map(([name]) => name).sort()).toEqual(
      byKind('Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    );
    expect(builtServices.map(([name]) => name).sort()).toEqual([...NEST_SERVICES, ...MODEL_RUNTIME].sort());
  });

  it.each([...NEST_SERVICES, ...MODEL_RUNTIME])('%s: same command and the same environment variable names', (name) => {
    const service = compose.services[name];
    const container = containerOf(name);
    expect(service?.command).toEqual(container.args);
    expect(Object.keys(service?.environment ?? {}).sort()).toEqual((container.env ?? []).map((e) => e.name).sort());
  });

  it.each(NEST_SERVICES)('%s: same port, database and consumer group', (name) => {
    const env = compose.services[name]?.environment ?? {};
    const k8sEnv = Object.fromEntries((containerOf(name).env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    for (const key of ['PORT', 'MONGO_DB', 'KAFKA_GROUP_ID']) {
      if (key in env || key in k8sEnv) expect({ key, value: String(env[key]) }).toEqual({ key, value: k8sEnv[key] });
    }
    expect(compose.services[name]?.healthcheck?.test.join(' ')).toContain('/ready');
  });

  it('give every service its own database', () => {
    const databases = NEST_SERVICES.map((n) => compose.services[n]?.environment?.['MONGO_DB']).filter((d) => d !== undefined);
    expect(new Set(databases).size).toBe(databases.length);
  });
});

describe('images', () => {
  it('build from the Dockerfiles compose names', () => {
    for (const [, s] of builtServices) expect(existsSync(join(ROOT, s.build?.dockerfile ?? 'missing'))).toBe(true);
  });

  it('the services image starts on node 24 with npm ci, by service name', () => {
    const dockerfile = read('deploy', 'docker', 'Dockerfile');
    expect(dockerfile).toMatch(/^FROM node:24\b/m);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    for (const name of NEST_SERVICES) {
      expect(dockerfile).toContain(`COPY apps/${name} ./apps/${name}`);
      expect(compose.services[name]?.build?.dockerfile).toBe('deploy/docker/Dockerfile');
    }
  });

  it('the model-runtime image installs the Python project and runs `studio-runtime worker`', () => {
    const dockerfile = read('deploy', 'docker', 'model-runtime.Dockerfile');
    expect(dockerfile).toContain('COPY apps/model-runtime/pyproject.toml');
    expect(dockerfile).toMatch(/^RUN pip install .*\.\/apps\/model-runtime$/m);
    expect(dockerfile).toContain('ENTRYPOINT ["studio-runtime"]');
    expect(dockerfile).toContain('CMD ["worker"]');
    expect(read('apps', 'model-runtime', 'pyproject.toml')).toMatch(/^studio-runtime = /m);
    const gpu = compose.services['model-runtime']?.deploy?.resources?.reservations?.devices?.[0];
    expect(gpu).toMatchObject({ driver: 'nvidia', capabilities: ['gpu'] });
  });
});

/** The pods (by app.kubernetes.io/name) a NetworkPolicy applies to: all of them for an empty selector. */
const policies = byKind('NetworkPolicy');
const podsOf = (policy: K8sObject): string[] | 'all' => {
  const name = policy.spec?.podSelector?.matchLabels?.['app.kubernetes.io/name'];
  return name === undefined ? 'all' : [name];
};
const DEPLOYMENTS = () => byKind('Deployment').map((d) => d.metadata.name);
/** Who may open a connection to `pod`, and on which ports: 'anyone' for a rule without `from`. */
function ingressTo(pod: string): { from: string[] | 'anyone'; ports: number[] }[] {
  return policies
    .filter((p) => p.spec?.policyTypes?.includes('Ingress') && podsOf(p) !== 'all' && (podsOf(p) as string[]).includes(pod))
    .flatMap((p) => p.spec?.ingress ?? [])
    .map((rule) => ({
      from:
        rule.from === undefined
          ? 'anyone'
          : rule.from.map((peer) => {
              if (peer.namespaceSelector !== undefined || peer.ipBlock !== undefined || !peer.podSelector?.matchLabels)
                return '(outside the namespace)';
              return peer.podSelector.matchLabels['app.kubernetes.io/name'] ?? '(unnamed pods)';
            }),
      ports: (rule.ports ?? []).map((p) => p.port),
    }));
}

describe('nothing internal is reachable from outside', () => {
  it('docker-compose publishes the gateway alone (no service, model server or server of the infrastructure on a host port)', () => {
    const published = Object.entries(compose.services)
      .filter(([, s]) => (s.ports ?? []).length > 0)
      .map(([name, s]) => [name, s.ports, s.profiles ?? []]);
    // Besides the gateway, only the local OpenID provider of the opt-in `oidc` profile: the browser signs in there.
    expect(published).toEqual([
      ['gateway', ['3000:3000'], []],
      ['oidc', ['4010:4010'], ['oidc']],
    ]);
  });

  it('Kubernetes exposes no Service outside the cluster (an Ingress or an overlay publishes the gateway)', () => {
    for (const service of byKind('Service'))
      expect({ service: service.metadata.name, type: service.spec?.type ?? 'ClusterIP' }).toEqual({
        service: service.metadata.name,
        type: 'ClusterIP',
      });
  });

  it('denies all ingress and egress by default', () => {
    const deny = policies.filter((p) => podsOf(p) === 'all' && !p.spec?.ingress && !p.spec?.egress);
    expect(deny.map((p) => [...(p.spec?.policyTypes ?? [])].sort())).toEqual([['Egress', 'Ingress']]);
    // The only other policy for every pod is DNS.
    const forAll = policies.filter((p) => podsOf(p) === 'all' && p !== deny[0]);
    expect(forAll.flatMap((p) => p.spec?.egress ?? []).flatMap((r) => (r.ports ?? []).map((port) => port.port))).toEqual([53, 53]);
    expect(forAll.every((p) => p.spec?.ingress === undefined)).toBe(true);
  });

  it('lets only the gateway accept connections from outside, and each internal service only its callers, on its port', () => {
    const portOf = (name: string) => containerOf(name).ports?.[0]?.containerPort;
    const expected: Record<string, { from: string[] | 'anyone'; ports: number[] }[]> = {
      gateway: [{ from: 'anyone', ports: [3000] }],
      framer: [{ from: ['gateway', 'auditor', 'reward-model'], ports: [3001] }],
      ontology: [{ from: ['gateway'], ports: [3002] }],
      instructor: [{ from: ['gateway', 'auditor'], ports: [3003] }],
      auditor: [{ from: ['gateway', 'reward-model'], ports: [3005] }],
      'model-server': [{ from: ['gateway', 'framer', 'ontology', 'auditor'], ports: [8000] }],
      'reward-model': [{ from: ['gateway'], ports: [3004] }],
      'model-runtime': [],
    };
    expect(DEPLOYMENTS().sort()).toEqual(Object.keys(expected).sort());
    for (const pod of DEPLOYMENTS()) {
      expect({ pod, ingress: ingressTo(pod) }).toEqual({ pod, ingress: expected[pod] });
      for (const rule of expected[pod] ?? []) if (portOf(pod) !== undefined) expect(rule.ports).toEqual([portOf(pod)]);
    }
  });

  it('gives every pod an egress policy, and lets only the callers of an internal service reach it', () => {
    const egress = (pod: string) =>
      policies.filter((p) => p.spec?.policyTypes?.includes('Egress') && podsOf(p) !== 'all' && (podsOf(p) as string[]).includes(pod));
    for (const pod of DEPLOYMENTS()) expect({ pod, policies: egress(pod).length }).toEqual({ pod, policies: 1 });
    const reaches = (pod: string) =>
      egress(pod)
        .flatMap((p) => p.spec?.egress ?? [])
        .flatMap((r) => (r.to ?? []).map((peer) => peer.podSelector?.matchLabels?.['app.kubernetes.io/name']))
        .filter((name): name is string => name !== undefined)
        .sort();
    expect(Object.fromEntries(DEPLOYMENTS().map((pod) => [pod, reaches(pod)]))).toEqual({
      gateway: ['auditor', 'framer', 'instructor', 'model-server', 'ontology', 'reward-model'],
      framer: ['model-server'],
      ontology: ['model-server'],
      instructor: [],
      auditor: ['framer', 'instructor', 'model-server'],
      'reward-model': ['auditor', 'framer'],
      'model-server': [],
      'model-runtime': [],
    });
  });
});

describe('credentials of the production manifests', () => {
  const envOf = (name: string) => Object.fromEntries((containerOf(name).env ?? []).map((e) => [e.name, e]));
  const secretRef = (name: string, variable: string) => envOf(name)[variable]?.valueFrom?.secretKeyRef?.key;

  it('every NestJS service holds the service credential from the Secret (the gateway sends it, the others require it)', () => {
    for (const name of NEST_SERVICES) expect({ name, key: secretRef(name, 'SERVICE_TOKEN') }).toEqual({ name, key: 'SERVICE_TOKEN' });
    // Empty in the base: a deployment without its own token does not start (SERVICE_TOKEN is required).
    expect(secret?.stringData?.['SERVICE_TOKEN']).toBe('');
  });

  it('the model server requires its key, and its clients send it', () => {
    expect(secretRef('model-server', 'STUDIO_MODEL_SERVER_API_KEY')).toBe('MODEL_SERVER_API_KEY');
    expect(secretRef('ontology', 'LLM_API_KEY')).toBe('MODEL_SERVER_API_KEY');
    expect(secretRef('auditor', 'LLM_API_KEY')).toBe('MODEL_SERVER_API_KEY');
    expect(secretRef('framer', 'STUDIO_TEACHER_API_KEY')).toBe('MODEL_SERVER_API_KEY');
    expect(Object.keys(envOf('model-server'))).toContain('STUDIO_ARTIFACT_DIR');
  });

  it('Qdrant is called with its API key', () => {
    for (const name of ['ontology', 'auditor']) expect(secretRef(name, 'QDRANT_API_KEY')).toBe('QDRANT_API_KEY');
  });

  it('Redis is reached with AUTH: its URL, from the Secret, carries a password', () => {
    const url = new URL(secret?.stringData?.['REDIS_URL'] ?? '');
    expect(url.password.length).toBeGreaterThan(0);
    for (const name of ['framer', 'instructor', 'auditor', 'model-runtime']) expect(secretRef(name, 'REDIS_URL')).toBe('REDIS_URL');
  });

  it('every Kafka client authenticates with SASL/SCRAM over TLS, its password from the Secret', () => {
    expect(configMap?.data?.['KAFKA_SASL_MECHANISM']).toMatch(/^scram-sha-(256|512)$/);
    expect(configMap?.data?.['KAFKA_SSL']).toBe('true');
    const kafkaClients = NEST_SERVICES.filter((name) => 'KAFKA_BROKERS' in envOf(name));
    expect(kafkaClients.sort()).toEqual(['auditor', 'framer', 'gateway', 'instructor', 'ontology', 'reward-model']);
    for (const name of kafkaClients) {
      const env = envOf(name);
      expect({ name, mechanism: env['KAFKA_SASL_MECHANISM']?.valueFrom?.configMapKeyRef?.key }).toEqual({
        name,
        mechanism: 'KAFKA_SASL_MECHANISM',
      });
      expect({ name, user: env['KAFKA_SASL_USERNAME']?.value }).toEqual({ name, user: `studio-${name}` });
      expect(secretRef(name, 'KAFKA_SASL_PASSWORD')).toBe(`KAFKA_SASL_PASSWORD_${name.toUpperCase().replace(/-/g, '_')}`);
      expect(env['KAFKA_SSL']?.valueFrom?.configMapKeyRef?.key).toBe('KAFKA_SSL');
    }
  });
});
