/** Everything the worker's workflow bundle exports. */
export { decideWorkflow } from './decision/workflow';
export { pingWorkflow } from './ping/workflow';
export { dualChannelApprovalWorkflow } from './approval/workflow';
export { mentorEnrichmentWorkflow } from './mentor/workflow';
