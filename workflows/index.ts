// The workflow bundle's entry: every workflow type the worker serves.
export { smokeWorkflow } from './smoke';
export { remediateIncident } from './remediate-incident';
