/**
 * The alert rules provably fire: `promtool test rules` runs the unit tests in deploy/prometheus/alert-rules.test.yaml
 * against the real rule file, and every alert there has a case where it fires and one where it stays quiet.
 * promtool comes from Debian's `prometheus` package, installed by `npm test`'s set-up (scripts/ensure.mjs).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const DIR = path.join(__dirname, '..', '..', 'deploy', 'prometheus');
const RULES = path.join(DIR, 'alert-rules.yaml');
const TESTS = path.join(DIR, 'alert-rules.test.yaml');

function promtool(...args: string[]) {
  const r = spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool could not run (${r.error.message}): apt-get install prometheus, or run the tests through npm test`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Each alert's unit-test cases, as firing (some expected alert) or quiet (`exp_alerts: []`). */
function casesByAlert(testYaml: string): Map<string, { firing: number; quiet: number }> {
  const cases = new Map<string, { firing: number; quiet: number }>();
  const lines = testYaml.split('\n');
  lines.forEach((line, i) => {
    const m = /^\s+alertname: (\S+)\s*$/.exec(line);
    if (!m) return;
    const next = lines.slice(i + 1).find((l) => l.trim() !== '') ?? '';
    const c = cases.get(m[1]) ?? { firing: 0, quiet: 0 };
    if (/^\s+exp_alerts: \[\]\s*$/.test(next)) c.quiet++;
    else if (/^\s+exp_alerts:\s*$/.test(next)) c.firing++;
    else throw new Error(`alert-rules.test.yaml line ${i + 2}: expected exp_alerts after alertname ${m[1]}`);
    cases.set(m[1], c);
  });
  return cases;
}

it('when promtool checks the rule file, then every rule is valid', () => {
  const r = promtool('check', 'rules', RULES);

  expect(r.output).toMatch(/SUCCESS/);
  expect(r.status).toBe(0);
});

it('when promtool runs the unit tests, then every expected alert fires with its labels and annotations and no other', () => {
  const r = promtool('test', 'rules', TESTS);

  // On failure the output names each case with the alerts it expected and got (annotations included).
  expect(r.output).not.toMatch(/FAILED/);
  expect(r.status).toBe(0);
});

it('when the rule file lists its alerts, then each has a unit test where it fires and one where it stays quiet', () => {
  const alerts = [...fs.readFileSync(RULES, 'utf8').matchAll(/^\s+- alert: (\S+)\s*$/gm)].map((m) => m[1]);
  const cases = casesByAlert(fs.readFileSync(TESTS, 'utf8'));

  expect(alerts.length).toBeGreaterThan(10);
  const missing = alerts.filter((a) => !cases.get(a)?.firing || !cases.get(a)?.quiet);
  expect(missing).toEqual([]);
  // And no test names an alert the rule file does not have.
  expect([...cases.keys()].filter((a) => !alerts.includes(a))).toEqual([]);
});
