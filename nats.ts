/**
 * diffusion-life/nats: many generators, one tree, through NATS JetStream.
 * Producers publish their step tables to a run (`publishSteps`,
 * `publishStepTable`, `publishEnd`); one embedder process reads the run's
 * whole steps from a durable consumer, embeds them, checkpoints and
 * acknowledges after every update, and fans frames and the lineage tree
 * out (`embedRun`); watchers follow the run (`followRun`). Needs the
 * optional packages `@nats-io/transport-node` (or another NATS transport)
 * and `@nats-io/jetstream`.
 *
 * @module
 */
export { checkToken, ensureRunStream, HEADER, runSubjects, type RunSubjects } from "./src/jetstream/run_subjects.ts";
export { tableParts, readPart } from "./src/jetstream/table_parts.ts";
export { publishEnd, type PublishedStep, publishStepTable, type PublishOptions } from "./src/jetstream/publish_step_table.ts";
export { publishSteps } from "./src/jetstream/publish_steps.ts";
export { StepConsumer, type StepConsumerOptions, type StepConsumerStats } from "./src/jetstream/step_consumer.ts";
export { publishUpdate } from "./src/jetstream/publish_update.ts";
export { type FollowOptions, followRun, type RunEvent } from "./src/jetstream/follow_run.ts";
export { embedRun, type EmbedRunOptions, type RunUpdate } from "./src/jetstream/embed_run.ts";
