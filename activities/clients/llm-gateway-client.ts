import type { GatewayAnswer } from '../../domain/mentor/mentor-rules';
import type { BreakerState, ServiceClient } from '../../lib/clients/service-client';

export interface LlmGenerateRequest {
  tenant_id: string;
  prompt: string;
  max_tokens: number;
}

/** CONTRACT.md: `{text, safety: {status: "pass" or "blocked", risk_flags, redaction_summary}}`, checked by the caller. */
export type LlmGenerateAnswer = GatewayAnswer;

export interface LlmGatewayClient {
  generate(req: LlmGenerateRequest, opts?: { idempotencyKey?: string }): Promise<LlmGenerateAnswer>;
  breakerState(): BreakerState;
}

/** `POST /v1/llm/generate` over the one service client (3.0 s timeout and the breaker come from there). */
export function createLlmGatewayClient(client: ServiceClient): LlmGatewayClient {
  return {
    async generate(req, opts = {}) {
      const answer = await client.request<LlmGenerateAnswer>('POST', '/v1/llm/generate', { body: req, idempotencyKey: opts.idempotencyKey });
      return answer && typeof answer === 'object' ? answer : {};
    },
    breakerState: () => client.breakerState(),
  };
}
