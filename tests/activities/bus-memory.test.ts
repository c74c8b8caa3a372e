/** The in-memory bus (unit tests, single-node fallback) against the same contract as the Redis and RabbitMQ adapters. */
import { createMemorySignalBus } from '../../activities/bus/memory-signal-bus';
import type { SignalBus } from '../../activities/bus/signal-bus';
import { busContract, MAX_DELIVERIES } from '../support/bus-contract';

// One bus per prefix: consumers "in other processes" of the memory bus are consumers of the same object.
const buses = new Map<string, SignalBus>();
busContract(
  'in-memory',
  (prefix) => {
    let bus = buses.get(prefix);
    if (!bus) buses.set(prefix, (bus = createMemorySignalBus({ maxDeliveries: MAX_DELIVERIES, concurrency: 4 })));
    return { ...bus, close: async () => undefined };
  },
  { separateProcesses: false },
);
