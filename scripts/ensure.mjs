#!/usr/bin/env node
// Makes sure everything `npm start|test|bench|token` needs is on this machine, then optionally runs a command.
// Plain Node ESM with no npm dependencies on purpose: it runs before `npm ci` has installed anything.
//
//   node scripts/ensure.mjs <start|test|bench|token> [-- command args...]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const TEMPORAL_CLI_VERSION = '1.5.1';
// v1.5.1 is the newest CLI tag whose go.mod has no replace directive; later tags refuse `go install`.
const TEMPORAL_CLI_MODULE = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`;
// The OpenAPI fuzzer `npm test` runs (tests/contract/openapi-fuzz.test.ts); pinned, as its CLI changes between majors.
const SCHEMATHESIS_VERSION = '4.32.5';
const KUBERNETES_VALIDATE_VERSION = '1.37.0';
const MODES = ['start', 'test', 'bench', 'token'];
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Progress goes to stderr so commands like `npm run token --silent` print only their own output on stdout.
const log = (message) => console.error(`[ensure] ${message}`);
const fail = (message) => {
  console.error(`[ensure] ERROR: ${message}`);
  process.exit(1);
};

function isExecutableFile(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** First executable called `name` on the PATH, like `which`. */
export function findOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutableFile(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** Per-user cache outside the clone, so fresh clones and CI runs reuse one (slow) build. */
export function temporalCliCacheDir() {
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'mmm-engine', `temporal-cli-${TEMPORAL_CLI_VERSION}`);
}

/** A Python tool's virtual environment, beside the Temporal CLI in the per-user cache (one per pinned version). */
function pythonToolVenvDir(name, version) {
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'mmm-engine', `${name}-${version}`);
}

/** The fuzzer's virtual environment. */
export function schemathesisVenvDir() {
  return pythonToolVenvDir('schemathesis', SCHEMATHESIS_VERSION);
}

/** kubernetes-validate's (the manifests' schema check, tests/infra/deploy-manifests.test.ts). */
export function kubernetesValidateVenvDir() {
  return pythonToolVenvDir('kubernetes-validate', KUBERNETES_VALIDATE_VERSION);
}

/** Lookup order (keep in sync with resolveTemporalCliPath in temporal/dev-server.ts): env, PATH, cache. */
export function findTemporalCli() {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv && isExecutableFile(fromEnv)) return fromEnv;
  if (fromEnv) log(`warning: TEMPORAL_CLI_PATH=${fromEnv} is not an executable file, looking elsewhere`);
  const cached = path.join(temporalCliCacheDir(), 'temporal');
  return findOnPath('temporal') ?? (isExecutableFile(cached) ? cached : undefined);
}

function ensureNpmPackages() {
  const marker = path.join(projectRoot, 'node_modules', '.package-lock.json');
  const lock = path.join(projectRoot, 'package-lock.json');
  // npm rewrites node_modules/.package-lock.json on every install, so a lock file newer than it means a stale tree.
  if (fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs) {
    return log('npm packages: ok (already installed)');
  }
  log('npm packages: running npm ci ...');
  let result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: projectRoot, stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0 && !/can only install packages when your package\.json and package-lock\.json/.test(result.stderr ?? '')) {
    process.stderr.write(result.stderr ?? '');
    fail('npm ci failed (see above); fix it and run again');
  }
  if (result.status !== 0) {
    // A registry mirror without other platforms' optional packages (e.g. @swc/core-darwin-*) leaves them out of the
    // lock file, and `npm ci` then refuses the lock as out of sync; `npm install` honours the same lock and skips them.
    log('npm packages: npm ci refused, falling back to npm install with the same lock file ...');
    result = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: projectRoot, stdio: 'inherit' });
  }
  if (result.status !== 0) fail('npm install failed (see above); fix it and run again');
  log('npm packages: ok (installed)');
}

function ensureTemporalCli() {
  if (process.env.TEMPORAL_ADDRESS) {
    log(`Temporal CLI: skipped (TEMPORAL_ADDRESS=${process.env.TEMPORAL_ADDRESS} is used)`);
    return undefined;
  }
  const found = findTemporalCli();
  if (found) {
    log(`Temporal CLI: ok (${found})`);
    return found;
  }
  if (!findOnPath('go')) {
    log('warning: Temporal CLI not found and Go is not installed, so the embedded Temporal dev server cannot start.');
    log(`  Install Go >= 1.21 (it fetches the Go 1.25 toolchain the CLI needs from the module proxy; Debian 12's`);
    log(`  golang-go 1.19 is too old), or put the Temporal CLI v${TEMPORAL_CLI_VERSION} on the PATH, or set`);
    log('  TEMPORAL_CLI_PATH, or point TEMPORAL_ADDRESS at a running Temporal server.');
    return undefined;
  }
  const gobin = temporalCliCacheDir();
  log(`Temporal CLI: building v${TEMPORAL_CLI_VERSION} into ${gobin} with Go (one-time build, takes several minutes) ...`);
  fs.mkdirSync(gobin, { recursive: true });
  const result = spawnSync('go', ['install', TEMPORAL_CLI_MODULE], { stdio: 'inherit', env: { ...process.env, GOBIN: gobin } });
  const built = path.join(gobin, 'temporal');
  if (result.status !== 0 || !isExecutableFile(built)) {
    fail(
      `go install ${TEMPORAL_CLI_MODULE} failed (it needs Go >= 1.21 and the Go module proxy); ` +
        `install the Temporal CLI v${TEMPORAL_CLI_VERSION} yourself and set TEMPORAL_CLI_PATH`,
    );
  }
  log(`Temporal CLI: ok (built ${built})`);
  return built;
}

function ensureRedisServer(mode) {
  if (process.env.REDIS_URL) return log(`redis-server: skipped (REDIS_URL is set)`);
  if (findOnPath('redis-server')) return log(`redis-server: ok (${findOnPath('redis-server')})`);
  if (process.getuid?.() === 0 && findOnPath('apt-get')) {
    log('redis-server: not found, installing with apt-get ...');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', 'redis-server'], { stdio: 'inherit', env });
    if (findOnPath('redis-server')) return log(`redis-server: ok (installed ${findOnPath('redis-server')})`);
  }
  if (mode === 'test') fail('tests need a real redis-server: apt-get install redis-server (or set REDIS_URL)');
  log('warning: redis-server not found (apt-get install redis-server); the in-process single-node store will be used');
}

/** Where Debian's package puts the real start script (keep in sync with workers/embedded-rabbitmq.ts). */
const RABBITMQ_SERVER_SCRIPT = '/usr/lib/rabbitmq/bin/rabbitmq-server';

/**
 * The RabbitMQ bus adapter is tested for real, so `test` and `bench` need rabbitmq-server (as does a start with
 * BUS_TYPE=rabbitmq and no RABBITMQ_URL to use); other runs do not install it. Debian's package starts no service here
 * (policy-rc.d), and the tests run private nodes on free ports.
 */
function ensureRabbitMqServer(mode) {
  const wanted = mode === 'test' || mode === 'bench' || process.env.BUS_TYPE === 'rabbitmq';
  if (!wanted) return;
  if (process.env.BUS_TYPE === 'rabbitmq' && process.env.RABBITMQ_URL && mode !== 'test' && mode !== 'bench')
    return log('rabbitmq-server: skipped (RABBITMQ_URL is set)');
  const found = () => (isExecutableFile(RABBITMQ_SERVER_SCRIPT) ? RABBITMQ_SERVER_SCRIPT : findOnPath('rabbitmq-server'));
  if (found()) return log(`rabbitmq-server: ok (${found()})`);
  if (process.getuid?.() === 0 && findOnPath('apt-get')) {
    log('rabbitmq-server: not found, installing with apt-get ...');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'rabbitmq-server'], { stdio: 'inherit', env });
    if (found()) return log(`rabbitmq-server: ok (installed ${found()})`);
  }
  if (mode === 'test') fail('tests need a real rabbitmq-server: apt-get install rabbitmq-server');
  log('warning: rabbitmq-server not found (apt-get install rabbitmq-server); the RabbitMQ bus cannot be benchmarked or started locally');
}

/**
 * `npm test` runs two Python tools from PyPI: schemathesis fuzzes the served OpenAPI document, kubernetes-validate
 * checks the manifests in deploy/kubernetes against Kubernetes' schemas. Each is installed into a virtual environment
 * of its own in the per-user cache, so fresh clones reuse it; the tests find them there (or SCHEMATHESIS_PATH).
 */
function ensurePythonTool(mode, { name, version, bin, venv }) {
  if (mode !== 'test') return undefined;
  const exe = path.join(venv, 'bin', bin);
  const marker = path.join(venv, '.installed');
  if (isExecutableFile(exe) && fs.existsSync(marker)) {
    log(`${name}: ok (${exe})`);
    return exe;
  }
  const python = findOnPath('python3');
  if (!python) fail(`tests need python3 (>= 3.9) to run ${name}: apt-get install python3 python3-venv`);
  const venvWorks = () => spawnSync(python, ['-c', 'import venv, ensurepip'], { stdio: 'ignore' }).status === 0;
  if (!venvWorks() && process.getuid?.() === 0 && findOnPath('apt-get')) {
    log(`${name}: python3 has no venv module, installing python3-venv with apt-get ...`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'python3-venv'], { stdio: 'inherit', env });
  }
  if (!venvWorks()) fail(`tests need python3 with the venv module for ${name}: apt-get install python3-venv`);
  log(`${name}: installing ${version} into ${venv} (one-time, up to a minute) ...`);
  fs.rmSync(venv, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(venv), { recursive: true });
  let result = spawnSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
  if (result.status === 0)
    result = spawnSync(path.join(venv, 'bin', 'pip'), ['install', '--disable-pip-version-check', '--quiet', `${name}==${version}`], { stdio: 'inherit' });
  if (result.status !== 0 || !isExecutableFile(exe)) fail(`pip install ${name}==${version} into ${venv} failed (see above)`);
  fs.writeFileSync(marker, `${version}\n`);
  log(`${name}: ok (installed ${exe})`);
  return exe;
}

/**
 * The alert rules' unit tests (tests/infra/alert-rules.test.ts) run `promtool test rules`, so `test` needs promtool.
 * Debian ships it in the `prometheus` package; installing that starts no service here (policy-rc.d), and nothing
 * else of it is used. Other runs never need it.
 */
function ensurePromtool(mode) {
  if (mode !== 'test') return;
  if (findOnPath('promtool')) return log(`promtool: ok (${findOnPath('promtool')})`);
  if (process.getuid?.() === 0 && findOnPath('apt-get')) {
    log('promtool: not found, installing Debian\'s prometheus package with apt-get ...');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'prometheus'], { stdio: 'inherit', env });
    if (findOnPath('promtool')) return log(`promtool: ok (installed ${findOnPath('promtool')})`);
  }
  fail('tests need promtool (the alert rules are unit-tested with it): apt-get install prometheus');
}

/** Keep in sync with KAFKA_VERSION in workers/embedded-kafka.ts. */
const KAFKA_VERSION = '4.1.1';
const LOG4J_VERSION = '2.24.3';

export function kafkaLibsDir() {
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'mmm-engine', `kafka-${KAFKA_VERSION}`, 'libs');
}

/**
 * The Kafka bus is tested and benchmarked against a real broker, and `npm start` with BUS_TYPE=kafka and no
 * KAFKA_BROKERS runs one (workers/embedded-kafka.ts): Apache Kafka's own jars from Maven Central, copied once with
 * their runtime dependencies into the per-user cache by Maven (on the machine with Java 17), like the Temporal CLI build.
 */
function ensureKafkaLibs(mode) {
  const wanted = mode === 'test' || mode === 'bench' || (process.env.BUS_TYPE === 'kafka' && !process.env.KAFKA_BROKERS);
  if (!wanted) return;
  const libs = kafkaLibsDir();
  if (fs.existsSync(path.join(libs, `kafka_2.13-${KAFKA_VERSION}.jar`))) return log(`Kafka ${KAFKA_VERSION}: ok (${libs})`);
  if (!findOnPath('java') || !findOnPath('mvn')) {
    if (mode === 'test') fail('tests need Java 17 and Maven to fetch the Kafka broker: apt-get install openjdk-17-jre-headless maven');
    return log('warning: Java or Maven missing, so the embedded Kafka broker cannot be fetched; set KAFKA_BROKERS');
  }
  log(`Kafka ${KAFKA_VERSION}: copying the broker's jars from Maven Central into ${libs} (one-time) ...`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mmm-kafka-pom-'));
  // The broker (kafka_2.13) with its runtime dependencies, and a log4j2 binding so its logs go somewhere.
  const dep = (g, a, v) => `<dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
  fs.writeFileSync(
    path.join(work, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>local.mmm-engine</groupId><artifactId>kafka-broker-libs</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    ${dep('org.apache.kafka', 'kafka_2.13', KAFKA_VERSION)}
    ${dep('org.apache.logging.log4j', 'log4j-core', LOG4J_VERSION)}
    ${dep('org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J_VERSION)}
  </dependencies>
</project>
`,
  );
  const staging = `${libs}.partial`;
  fs.rmSync(staging, { recursive: true, force: true });
  const result = spawnSync('mvn', ['-q', '-B', 'dependency:copy-dependencies', `-DoutputDirectory=${staging}`, '-DincludeScope=runtime'], { cwd: work, stdio: 'inherit' });
  fs.rmSync(work, { recursive: true, force: true });
  if (result.status !== 0) fail('mvn dependency:copy-dependencies for the Kafka broker failed (see above); it needs Maven Central');
  // Renamed into place only when complete, so an interrupted copy is never taken for a good one.
  fs.rmSync(libs, { recursive: true, force: true });
  fs.renameSync(staging, libs);
  log(`Kafka ${KAFKA_VERSION}: ok (fetched ${libs})`);
}

/**
 * The OpenTelemetry Collector (core components) the tracing test exports to (tests/component/tracing.test.ts, ADR
 * 0015): built once with the collector's own builder from the Go module proxy into the per-user cache, like the
 * Temporal CLI. All collector modules at one release (v0.165.0 goes with the v1.71.0 stable modules).
 */
const OTELCOL_VERSION = '0.165.0';
const OTELCOL_STABLE_VERSION = '1.71.0';

export function otelColCacheDir() {
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'mmm-engine', `otelcol-${OTELCOL_VERSION}`);
}

export function ensureOtelCollector(mode) {
  if (mode !== 'test' && mode !== 'bench') return undefined;
  const dir = otelColCacheDir();
  const binary = path.join(dir, 'otelcorecol');
  if (isExecutableFile(binary)) {
    log(`OpenTelemetry Collector ${OTELCOL_VERSION}: ok (${binary})`);
    return binary;
  }
  if (!findOnPath('go')) {
    if (mode === 'test') fail('the tracing test needs the OpenTelemetry Collector, built with Go >= 1.24 from the module proxy: install Go');
    log('warning: Go is not installed, so the OpenTelemetry Collector cannot be built; the bench exports to a small in-process receiver');
    return undefined;
  }
  log(`OpenTelemetry Collector ${OTELCOL_VERSION}: building the core components into ${dir} (one-time build, several minutes) ...`);
  const staging = `${dir}.partial`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  const builderBin = path.join(staging, 'gobin');
  let result = spawnSync('go', ['install', `go.opentelemetry.io/collector/cmd/builder@v${OTELCOL_VERSION}`], { stdio: 'inherit', env: { ...process.env, GOBIN: builderBin } });
  if (result.status !== 0) fail(`go install go.opentelemetry.io/collector/cmd/builder@v${OTELCOL_VERSION} failed (see above)`);
  const core = (kind, name, version = OTELCOL_VERSION) => `  - gomod: go.opentelemetry.io/collector/${kind}/${name} v${version}`;
  const manifest = [
    'dist:',
    '  name: otelcorecol',
    '  description: OpenTelemetry Collector (core components), for the tracing test',
    `  output_path: ${path.join(staging, 'build')}`,
    `  version: ${OTELCOL_VERSION}`,
    'receivers:',
    core('receiver', 'otlpreceiver'),
    core('receiver', 'nopreceiver'),
    'exporters:',
    core('exporter', 'debugexporter'),
    core('exporter', 'otlpexporter'),
    core('exporter', 'otlphttpexporter'),
    core('exporter', 'nopexporter'),
    'processors:',
    core('processor', 'batchprocessor'),
    core('processor', 'memorylimiterprocessor'),
    'providers:',
    core('confmap/provider', 'envprovider', OTELCOL_STABLE_VERSION),
    core('confmap/provider', 'fileprovider', OTELCOL_STABLE_VERSION),
    core('confmap/provider', 'yamlprovider', OTELCOL_STABLE_VERSION),
    '',
  ].join('\n');
  const manifestPath = path.join(staging, 'manifest.yaml');
  fs.writeFileSync(manifestPath, manifest);
  result = spawnSync(path.join(builderBin, 'builder'), ['--config', manifestPath], { stdio: 'inherit' });
  const built = path.join(staging, 'build', 'otelcorecol');
  if (result.status !== 0 || !isExecutableFile(built)) fail('building the OpenTelemetry Collector failed (see above); it needs Go and the Go module proxy');
  // Only the binary is kept, renamed into place when complete, so an interrupted build is never taken for a good one.
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.renameSync(built, binary);
  fs.rmSync(staging, { recursive: true, force: true });
  log(`OpenTelemetry Collector ${OTELCOL_VERSION}: ok (built ${binary})`);
  return binary;
}

function runCommand(command, args, temporalCliPath, schemathesisPath, otelColPath) {
  const env = { ...process.env };
  if (otelColPath) env.OTELCOL_PATH = otelColPath;
  if (temporalCliPath) env.TEMPORAL_CLI_PATH = temporalCliPath;
  if (schemathesisPath) env.SCHEMATHESIS_PATH = schemathesisPath;
  const child = spawn(command, args, { stdio: 'inherit', shell: false, env, cwd: process.cwd() });
  // The child shares our terminal, so Ctrl-C reaches it directly too; forwarding covers `kill <our pid>`.
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('error', (err) => fail(`could not run ${command}: ${err.message}`));
  child.on('exit', (code, signal) => {
    process.exit(code ?? 128 + (os.constants.signals[signal] ?? 1));
  });
}

function main(argv) {
  const dashes = argv.indexOf('--');
  const [mode] = dashes === -1 ? argv : argv.slice(0, dashes);
  const command = dashes === -1 ? [] : argv.slice(dashes + 1);
  if (!MODES.includes(mode)) fail(`usage: node scripts/ensure.mjs <${MODES.join('|')}> [-- command args...]`);

  ensureNpmPackages();
  // Minting a token needs neither Temporal nor Redis, so don't make it wait for a Go build.
  const temporalCliPath = mode === 'token' ? undefined : ensureTemporalCli();
  if (mode !== 'token') ensureRedisServer(mode);
  if (mode !== 'token') ensureRabbitMqServer(mode);
  const schemathesisPath = ensurePythonTool(mode, { name: 'schemathesis', version: SCHEMATHESIS_VERSION, bin: 'st', venv: schemathesisVenvDir() });
  ensurePythonTool(mode, { name: 'kubernetes-validate', version: KUBERNETES_VALIDATE_VERSION, bin: 'kubernetes-validate', venv: kubernetesValidateVenvDir() });
  ensurePromtool(mode);
  if (mode !== 'token') ensureKafkaLibs(mode);
  const otelColPath = ensureOtelCollector(mode);

  if (command.length === 0) process.exit(0);
  runCommand(command[0], command.slice(1), temporalCliPath, schemathesisPath, otelColPath);
}

// Only act when run as a script, so tests and tools can import findTemporalCli() without side effects.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2));
}
