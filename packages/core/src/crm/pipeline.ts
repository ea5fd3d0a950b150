import { type PipelineStage, pipelineStages } from "@basalt/db";

/** True when `target` comes after `current` in the pipeline, so moving there goes forward. */
export function isLaterStage(current: PipelineStage, target: PipelineStage): boolean {
  return pipelineStages.indexOf(target) > pipelineStages.indexOf(current);
}
