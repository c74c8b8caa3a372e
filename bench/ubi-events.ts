/** UBI events as a real producer would send them: 2,000 actors, several event types, occurred within the last hour. */
export function ubiEvents(tenant: string, n: number, run: string) {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const build = i % 2 === 0;
    return {
      event_id: `ev-${run}-${i}`, tenant_id: tenant, actor_id: `actor-${i % 2000}`, actor_type: i % 2000 < 400 ? 'ai_agent' : 'human',
      event_type: build ? 'build_completed' : 'ide_session', occurred_at: new Date(now - Math.floor(Math.random() * 3_600_000)).toISOString(), source: 'bench',
      team_id: `team-${i % 20}`, repo_id: `repo-${i % 37}`,
      properties: build ? { status: Math.random() < 0.15 ? 'failure' : 'success', duration_ms: 60_000 } : { duration_ms: 600_000 },
    };
  });
}
