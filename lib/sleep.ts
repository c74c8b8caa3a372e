/** Resolves after `ms`; the timer never keeps the process alive (retry pauses, poll intervals, bounded waits). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
