/**
 * Metric names in PromQL expressions and in a Prometheus text exposition, for checking that alert rules, recording
 * rules and dashboard panels name only series some tier exports. A small scanner, not a PromQL parser: it drops string
 * literals, label matchers, range and subquery brackets and grouping clauses, then keeps every identifier that is
 * not a keyword, a function or an aggregation (those are followed by `(`).
 */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'atan2']);

export function metricNamesIn(expr: string): string[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/\{[^}]*\}/g, ' ');
  s = s.replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  s = s.replace(/\$\{?[\w.]+\}?/g, ' '); // Grafana variables outside matchers
  s = s.replace(/(^|[^\w:.])\d[\d.]*(e[+-]?\d+)?[a-z]*/gi, '$1 '); // numbers and durations
  const names = new Set<string>();
  for (const m of s.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const after = s.slice((m.index ?? 0) + m[0].length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** Grafana's `label_values(metric, label)` variable queries name a metric too. */
export function metricNamesInVariableQuery(query: string): string[] {
  const m = /label_values\(\s*([^,)]+)\s*,/.exec(query);
  return m ? metricNamesIn(m[1]) : [];
}

/** Every family (`# TYPE` lines) and sample name in a text exposition. */
export function exportedNames(exposition: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) names.set(type[1], type[2]);
    else if (/^[a-zA-Z_:]/.test(line)) {
      const name = /^[a-zA-Z_:][\w:]*/.exec(line)?.[0];
      if (name && !names.has(name)) names.set(name, 'sample');
    }
  }
  return names;
}

/** Names no exposition holds; `_bucket`, `_sum` and `_count` of a histogram or summary count as its base name. */
export function unexported(names: Iterable<string>, exported: Map<string, string>): string[] {
  return [...new Set(names)].filter((name) => {
    if (exported.has(name)) return false;
    const base = /^(.+)_(bucket|sum|count)$/.exec(name)?.[1];
    return !(base && ['histogram', 'summary'].includes(exported.get(base) ?? ''));
  });
}

/** The `expr:` of every rule (and the `record:` names) in a Prometheus rule file, read line by line. */
export function ruleExpressions(ruleYaml: string): { exprs: Array<{ rule: string; expr: string }>; recorded: string[] } {
  const lines = ruleYaml.split('\n');
  const exprs: Array<{ rule: string; expr: string }> = [];
  const recorded: string[] = [];
  let rule = '?';
  lines.forEach((line, i) => {
    const named = /^\s*-\s*(alert|record):\s*(\S+)/.exec(line);
    if (named) {
      rule = named[2];
      if (named[1] === 'record') recorded.push(named[2]);
    }
    const m = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!m) return;
    const value = m[2].trim();
    if (!/^[|>][-+]?$/.test(value)) {
      exprs.push({ rule, expr: value.replace(/^['"]|['"]$/g, '') });
      return;
    }
    const indent = m[1].length;
    const body: string[] = [];
    for (const next of lines.slice(i + 1)) {
      if (next.trim() !== '' && next.length - next.trimStart().length <= indent) break;
      body.push(next);
    }
    exprs.push({ rule, expr: body.join('\n') });
  });
  return { exprs, recorded };
}
