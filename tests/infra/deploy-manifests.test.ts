/**
 * The manifests in deploy/kubernetes, checked by an outside tool and against the code they configure:
 * kubernetes-validate (PyPI, installed by scripts/ensure.mjs) validates each against Kubernetes' own schemas in strict
 * mode (an unknown or misplaced field fails), kustomize's resource list names every manifest, and every variable the
 * ConfigMap and the Deployments set is one config/config.ts reads and parses (a typo would otherwise be ignored).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { configSchema, loadConfig } from '../../config/config';

const root = path.resolve(__dirname, '../..');
const dir = path.join(root, 'deploy', 'kubernetes');
const manifests = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

function venvBin(fn: string, bin: string): string {
  const venv = spawnSync(process.execPath, ['--input-type=module', '-e', `import('./scripts/ensure.mjs').then((m) => console.log(m.${fn}()))`], { cwd: root, encoding: 'utf8' });
  const exe = path.join(venv.stdout.trim(), 'bin', bin);
  if (!fs.existsSync(exe)) throw new Error(`${exe} is not installed: run \`node scripts/ensure.mjs test\` once`);
  return exe;
}
const validator = venvBin('kubernetesValidateVenvDir', 'kubernetes-validate');

interface Doc {
  kind?: string;
  metadata?: { name?: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  resources?: string[];
  spec?: { template?: { spec?: { containers?: Array<{ name: string; env?: Array<{ name: string; value?: string }> }> } } };
}

/** YAML to JSON with the PyYAML that kubernetes-validate brings (the project has no YAML parser of its own). */
function load(file: string): Doc[] {
  const python = path.join(path.dirname(validator), 'python');
  const out = spawnSync(python, ['-c', 'import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))', path.join(dir, file)], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`${file} is not valid YAML: ${out.stderr}`);
  return JSON.parse(out.stdout) as Doc[];
}

it('when kubernetes-validate checks every manifest in strict mode, then each resource passes against the Kubernetes schemas', () => {
  const resources = manifests.filter((f) => f !== 'kustomization.yaml');

  const run = spawnSync(validator, ['--strict', '--no-warn', ...resources.map((f) => path.join(dir, f))], { encoding: 'utf8' });

  const output = `${run.stdout}${run.stderr}`;
  expect({ status: run.status, failures: output.split('\n').filter((l) => /ERROR|fail/i.test(l)) }).toEqual({ status: 0, failures: [] });
  for (const f of resources) expect(output).toMatch(new RegExp(`${f} passed`));
});

it('when kustomize applies the folder, then its resource list names every manifest but the example Secret', () => {
  const [kustomization] = load('kustomization.yaml');

  expect([...(kustomization.resources ?? [])].sort()).toEqual(manifests.filter((f) => f !== 'kustomization.yaml' && f !== 'secret.example.yaml').sort());
});

it('when the tiers start with the ConfigMap, the example Secret and their own env, then every variable is one the config reads, and it parses', () => {
  const known = new Set(Object.keys(configSchema.shape));
  const docs = manifests.flatMap(load);
  const configMap = docs.find((d) => d.kind === 'ConfigMap')?.data ?? {};
  const secret = docs.find((d) => d.kind === 'Secret')?.stringData ?? {};
  const tiers = docs.filter((d) => d.kind === 'Deployment');
  expect(tiers.map((d) => d.metadata?.name).sort()).toEqual(['mmm-api', 'mmm-worker']);

  const unknown: string[] = [];
  for (const [source, vars] of [['configmap', configMap], ['secret', secret]] as const) for (const k of Object.keys(vars)) if (!known.has(k)) unknown.push(`${source}: ${k}`);
  for (const tier of tiers) {
    const env = Object.fromEntries((tier.spec?.template?.spec?.containers?.[0]?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]));
    for (const k of Object.keys(env)) if (!known.has(k)) unknown.push(`${tier.metadata?.name}: ${k}`);
    // Parses as the process would see it (loadConfig names any bad value); DATA_DIR is the image's working folder.
    const config = loadConfig({ ...configMap, ...secret, ...env, DATA_DIR: '/tmp/mmm-manifest-check' });
    expect({ tier: tier.metadata?.name, api: config.RUN_API, worker: config.RUN_WORKER }).toEqual(
      tier.metadata?.name === 'mmm-api' ? { tier: 'mmm-api', api: true, worker: false } : { tier: 'mmm-worker', api: false, worker: true },
    );
  }
  expect(unknown).toEqual([]);
});
