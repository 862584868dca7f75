/**
 * The model could not be reached after its retries (429s, 5xx, timeouts), or refused the
 * configuration (a wrong key, model or URL). Since patched('model-unavailable-v1') that ends the
 * incident in the status `model_unavailable` with the reason and its report, instead of failing the
 * workflow; incidents started before keep failing as they did, so their histories replay. A model
 * call goes through `askModel`, which turns the activity's final failure into this.
 */
import { ActivityFailure, ApplicationFailure, patched } from '@temporalio/workflow';

export const MODEL_UNAVAILABLE_V1 = 'model-unavailable-v1';

export class ModelUnavailable extends Error {
  override readonly name = 'ModelUnavailable';
}

/** Run a model activity; its final failure becomes ModelUnavailable (incidents since the patch). */
export async function askModel<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof ActivityFailure) || !patched(MODEL_UNAVAILABLE_V1)) throw err;
    const cause = err.cause;
    const why = cause instanceof ApplicationFailure || cause instanceof Error ? cause.message : err.message;
    throw new ModelUnavailable(why);
  }
}
