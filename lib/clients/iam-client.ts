import { z } from 'zod';
import { parseAnswer, type ServiceClient } from './service-client';

/** `POST /v1/iam/verify` (CONTRACT.md): whether a bearer token is valid, and whose it is. */
const verifyAnswer = z.object({
  valid: z.boolean(),
  claims: z.object({ sub: z.string().min(1), tenant_id: z.string().min(1), roles: z.array(z.string()).default([]) }).optional(),
});
/** `POST /v1/iam/decision`: an authorisation decision. */
const decisionAnswer = z.object({ decision: z.enum(['allow', 'deny']) });

export type IamVerification = z.infer<typeof verifyAnswer>;
export interface IamDecisionRequest {
  subject: string;
  action: string;
  resource: string;
  tenant_id: string;
}

export interface IamClient {
  verify(token: string): Promise<IamVerification>;
  decide(req: IamDecisionRequest): Promise<'allow' | 'deny'>;
}

export function createIamClient(client: ServiceClient): IamClient {
  return {
    async verify(token) {
      const answer = await client.request('POST', '/v1/iam/verify', { body: { token } });
      const parsed = parseAnswer('iam', verifyAnswer, answer, 'the verify answer');
      // A "valid" answer without claims cannot be used: it is not a verified identity.
      if (parsed.valid && !parsed.claims) return { valid: false };
      return parsed;
    },
    async decide(req) {
      const answer = await client.request('POST', '/v1/iam/decision', { body: req });
      return parseAnswer('iam', decisionAnswer, answer, 'the decision answer').decision;
    },
  };
}
