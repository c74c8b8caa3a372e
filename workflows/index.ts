/** Everything the worker's workflow bundle exports. */
export { decideWorkflow } from './decision/workflow';
export { pingBatchShardWorkflow, pingShardWorkflow, pingWorkflow } from './ping/workflow';
export { receiptEmissionWorkflow } from './receipts/workflow';
export { recomputeBaselinesWorkflow } from './baselines/workflow';
export { ubiRetentionWorkflow } from './retention/workflow';
export { mmmRetentionWorkflow } from './retention/mmm-workflow';
export { dualChannelApprovalWorkflow } from './approval/workflow';
export { mentorEnrichmentWorkflow } from './mentor/workflow';
export { alertDeliveryWorkflow } from './alerts/workflow';
export { decisionShardWorkflow } from './decision/shard-workflow';
export { experimentWeightsWorkflow } from './experiments/workflow';
