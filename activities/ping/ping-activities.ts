/** The bench floor's batch step (workflows/ping/workflow.ts, pingBatchShardWorkflow): answers each item, does nothing. */
export function createPingActivities() {
  return {
    async pingBatch(items: number[]): Promise<number[]> {
      return items;
    },
  };
}
