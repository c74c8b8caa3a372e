/**
 * A workflow that does nothing but complete: the floor of a Temporal round trip on this deployment. The bench
 * compares decideWorkflow against it, and ops can start it to check that workers are polling the queue.
 */
export async function pingWorkflow(): Promise<string> {
  return 'pong';
}
