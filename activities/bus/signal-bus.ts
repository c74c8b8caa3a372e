import type { BehaviouralSignal } from '../../domain/model/behavioural-signal';
import { BEHAVIOURAL_SIGNALS_TOPIC, DETECTION_SIGNALS_TOPIC } from '../../domain/model/behavioural-signal';

/**
 * Publishes stored behavioural signals: every one on BEHAVIOURAL_SIGNALS_TOPIC, `high` and `critical` also on
 * DETECTION_SIGNALS_TOPIC, keyed by tenant. At-least-once: a publish that throws may be retried by the caller, and
 * consumers de-duplicate by `signal_id`.
 */
export interface SignalPublisher {
  publish(signals: BehaviouralSignal[]): Promise<void>;
}

/** The bus kinds config `BUS_TYPE` chooses between (ADR 0007). */
export type BusKind = 'redis' | 'rabbitmq' | 'kafka' | 'memory';

/** One delivery of one message. `deliveries` counts this one: 1 the first time, 2 on the first re-delivery, … */
export interface BusMessage {
  /** The bus's own id (a stream entry id, or a RabbitMQ message id). */
  id: string;
  topic: string;
  /** The tenant the message is keyed (partitioned, routed) by. */
  key: string;
  /** The parsed JSON body, not yet validated: consumers validate it themselves. */
  payload: unknown;
  deliveries: number;
}

/** Resolving acknowledges the message; throwing leaves it for re-delivery (or the dead letter after N tries). */
export type MessageHandler = (message: BusMessage) => Promise<void>;

/**
 * Thrown by a handler for a message that can never succeed (it does not parse, say): it goes to the dead letter at
 * once, with this reason, instead of being retried N times.
 */
export class PoisonMessageError extends Error {
  override name = 'PoisonMessageError';
}

/** A message parked on a topic's dead letter, with why. */
export interface DeadLetter {
  topic: string;
  group: string;
  key: string;
  /** The original body as it arrived (a string when it was not JSON). */
  payload: unknown;
  reason: string;
  deliveries: number;
  original_id: string;
  dead_lettered_at: string;
}

export interface SubscribeOptions {
  /** Consumers in one group share the work; every group gets every message. */
  group: string;
  /** This consumer's name within the group (unique per process). */
  consumer: string;
  handler: MessageHandler;
  /** Messages in hand at once for this subscription (default: the bus's `concurrency`); a batching handler wants many. */
  concurrency?: number;
  /**
   * Kafka hands one tenant's messages over one at a time, in order (the default, which signals need); `unordered`
   * lifts that for handlers that batch and do not care (event ingestion). The other buses never promise an order.
   */
  unordered?: boolean;
}

export interface Subscription {
  /** Stops taking new messages and waits for the ones in hand to be handled (and acknowledged). */
  stop(): Promise<void>;
}

/** Counters the bus reports into; observability/metrics.ts declares them (mmm_bus_*). */
export interface BusMetrics {
  published(topic: string): void;
  consumed(topic: string): void;
  failed(topic: string): void;
  deadLettered(topic: string, reason: 'poison' | 'max_deliveries'): void;
  lag(topic: string, group: string, messages: number): void;
  /** Messages gone unhandled that the bus could not keep (mmm_bus_messages_lost_total{bus,reason}). */
  lost?(bus: BusKind, reason: string, messages: number): void;
}

/** Tunables shared by the adapters (config `BUS_*`). */
export interface BusOptions {
  /** Prepended to every topic name: lets deployments (and test files) share one Redis or broker. */
  topicPrefix: string;
  /** A message that failed this many deliveries goes to the dead letter (default 5). */
  maxDeliveries: number;
  /** Messages handled at once per consumer. */
  concurrency: number;
  metrics?: BusMetrics;
}

/**
 * The one interface behind `BUS_TYPE`: publish signals (the UBI side), subscribe (the engine side), read the dead
 * letter, and report health for `ready`.
 */
export interface SignalBus extends SignalPublisher {
  readonly kind: BusKind;
  /** Publishes one raw body on one topic, keyed by tenant (the building block of `publish`; tests use it directly). */
  publishRaw(topic: string, key: string, payload: unknown): Promise<void>;
  subscribe(topic: string, options: SubscribeOptions): Promise<Subscription>;
  /** The dead letter of a topic, oldest first, without consuming it. */
  deadLetters(topic: string, limit?: number): Promise<DeadLetter[]>;
  ping(): Promise<void>;
  /** Drops connections at once: messages in hand and not yet acknowledged are re-delivered to other consumers. */
  close(): Promise<void>;
}

export const DEAD_LETTER_SUFFIX = '.dead_letter';

/** Every signal on BEHAVIOURAL_SIGNALS_TOPIC; `high` and `critical` also on DETECTION_SIGNALS_TOPIC. */
export function topicsFor(signal: BehaviouralSignal): string[] {
  return signal.severity === 'high' || signal.severity === 'critical' ? [BEHAVIOURAL_SIGNALS_TOPIC, DETECTION_SIGNALS_TOPIC] : [BEHAVIOURAL_SIGNALS_TOPIC];
}

/** `publish` on top of `publishRaw`, in order, for adapters without a batch path of their own. */
export async function publishEach(bus: Pick<SignalBus, 'publishRaw'>, signals: BehaviouralSignal[]): Promise<void> {
  for (const signal of signals) for (const topic of topicsFor(signal)) await bus.publishRaw(topic, signal.tenant_id, signal);
}

/** A short, single-line reason for the dead letter (never a stack, never the message body). */
export function reasonOf(err: unknown): string {
  const named = err instanceof Error && err.name !== 'Error' && !(err instanceof PoisonMessageError);
  const text = err instanceof Error ? `${named ? `${err.name}: ` : ''}${err.message}` : String(err);
  return text.replace(/\s+/g, ' ').slice(0, 500);
}

/** A message body on the wire: JSON, or a string sent as it is (tests publish poison that way). */
export function serialiseBody(payload: unknown): string {
  return typeof payload === 'string' ? payload : JSON.stringify(payload);
}

/** The body as the handler gets it: parsed JSON, or the text itself when it is not JSON (the handler judges poison). */
export function parseBody(body: string | undefined): unknown {
  if (body === undefined) return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}
