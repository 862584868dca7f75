import { createOpenAI } from '@ai-sdk/openai';
import { APICallError, generateText, stepCountIs } from 'ai';
import type { LanguageModel, ToolSet } from 'ai';
import { ApplicationFailure } from '@temporalio/activity';
import type { TokenUsage } from '../workflows/incident-types';
import { ERROR_TYPES, TRANSIENT_ERROR_TYPES } from '../workflows/error-types';

/**
 * The model: any OpenAI-compatible server (OpenAI, Azure, vLLM, Ollama, LM Studio) through `ai` +
 * `@ai-sdk/openai`, chat completions by default (what local servers serve) or the responses API.
 * Its configuration comes from worker/settings.ts; the key is passed in by the worker's activity
 * factory and is never an activity argument or result.
 */
export interface ModelConfig {
  baseURL?: string;
  apiKey?: string;
  modelId: string;
  api: 'chat' | 'responses';
  /** One request's limit; past it the try fails as retryable (default DEFAULT_MODEL_TIMEOUT_SECONDS). */
  timeoutSeconds?: number;
}

export const DEFAULT_MODEL_TIMEOUT_SECONDS = 180;

export interface Completion {
  text: string;
  usage: TokenUsage;
  durationMs: number;
  /** Set when tools were offered and the service refused them: the answer was asked for without. */
  toolsRefused?: string;
}

/** Tools the model may call before it answers (context/retrieval-tools.ts), bounded by the caller. */
export interface OfferedTools {
  set: ToolSet;
  /** Model round trips at most (each may hold several calls); the last one must answer. */
  maxSteps: number;
  /** True once the caller's limits are spent: the next round trip offers no tool. */
  exhausted(): boolean;
}

export interface ModelRequest {
  system: string;
  prompt: string;
  tools?: OfferedTools;
}

export interface ModelClient {
  readonly description: string;
  complete(request: ModelRequest): Promise<Completion>;
}

export function createModelClient(config: ModelConfig): ModelClient {
  if (!config.apiKey && !config.baseURL) {
    throw ApplicationFailure.nonRetryable(
      'No model is configured: set OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL (an OpenAI-compatible server) in the worker environment',
      ERROR_TYPES.modelNotConfigured,
    );
  }
  // Local servers need no key, but the client insists on one: send a placeholder, never a secret.
  const provider = createOpenAI({ baseURL: config.baseURL, apiKey: config.apiKey ?? 'no-key' });
  const model: LanguageModel =
    config.api === 'responses' ? provider.responses(config.modelId) : provider.chat(config.modelId);
  const timeoutMs = (config.timeoutSeconds ?? DEFAULT_MODEL_TIMEOUT_SECONDS) * 1000;
  return {
    description: `${config.modelId} via ${config.api === 'responses' ? 'responses' : 'chat completions'} API at ${config.baseURL ?? 'api.openai.com'}`,
    async complete({ system, prompt, tools }) {
      const started = Date.now();
      const ask = async (offered: OfferedTools | undefined) => {
        // maxRetries 0: transient failures are retried by Temporal's activity retry policy,
        // where each try is visible in the workflow history.
        // A service that hangs (or stops mid-answer) is cut off here (each round trip within the
        // limit), and the try retried by Temporal.
        const result = await generateText({
          model,
          system,
          prompt,
          temperature: 0,
          maxRetries: 0,
          timeout: { stepMs: timeoutMs, totalMs: timeoutMs * (offered?.maxSteps ?? 1) },
          ...(offered
            ? {
                tools: offered.set,
                stopWhen: stepCountIs(offered.maxSteps),
                // Limits spent: the model is offered no tool and must answer.
                prepareStep: () => (offered.exhausted() ? { toolChoice: 'none' as const } : undefined),
              }
            : {}),
        });
        return {
          text: result.text,
          usage: {
            inputTokens: result.totalUsage.inputTokens ?? 0,
            outputTokens: result.totalUsage.outputTokens ?? 0,
          },
          durationMs: Date.now() - started,
        };
      };
      try {
        if (!tools) return await ask(undefined);
        try {
          return await ask(tools);
        } catch (err) {
          // A server without tool calling (some local models) rejects the request: ask without tools.
          if (!(APICallError.isInstance(err) && err.statusCode === 400)) throw err;
          return { ...(await ask(undefined)), toolsRefused: err.message.slice(0, 300) };
        }
      } catch (err) {
        if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
          throw new Error(
            `The model service did not answer within ${timeoutMs / 1000} s (OPSGUARD_MODEL_TIMEOUT_SECONDS; will retry)`,
            { cause: err },
          );
        throw classifyModelError(err);
      }
    },
  };
}

/** Retry-After as seconds (a number or an HTTP date), capped at MAX_RETRY_AFTER_SECONDS; null without one. */
export function retryAfterSeconds(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const seconds = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : (Date.parse(value) - now) / 1000;
  if (!Number.isFinite(seconds)) return null;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(seconds)));
}

/** A service asking for a longer pause is retried after this long at most (the attempt budget stays bounded). */
export const MAX_RETRY_AFTER_SECONDS = 60;

/** 429/5xx/network: retryable. 400/401/403/404: final, with a message a person can act on. */
function classifyModelError(err: unknown): Error {
  if (APICallError.isInstance(err) && err.statusCode !== undefined) {
    const status = err.statusCode;
    if (status === 401 || status === 403) {
      return ApplicationFailure.nonRetryable(
        `The model service refused the credentials (HTTP ${status}); check OPENAI_API_KEY`,
        ERROR_TYPES.modelNotConfigured,
      );
    }
    if (status === 404) {
      return ApplicationFailure.nonRetryable(
        `The model service has no such model or endpoint (HTTP 404); check OPSGUARD_MODEL and OPENAI_BASE_URL`,
        ERROR_TYPES.modelNotConfigured,
      );
    }
    if (status === 400) {
      return ApplicationFailure.nonRetryable(
        `The model service rejected the request (HTTP 400): ${err.message.slice(0, 300)}`,
        ERROR_TYPES.modelRequestRejected,
      );
    }
    const message =
      status < 300
        ? `The model service's answer was cut off or is not a completion (HTTP ${status}; will retry): ${err.message.slice(0, 300)}`
        : `The model service answered HTTP ${status} (will retry): ${err.message.slice(0, 300)}`;
    // 429/503 with Retry-After: the next try waits as long as the service asked (within reason).
    const wait = retryAfterSeconds(err.responseHeaders?.['retry-after']);
    if (wait !== null)
      return ApplicationFailure.create({ message, type: TRANSIENT_ERROR_TYPES.modelBusy, nextRetryDelay: `${wait}s` });
    return new Error(message);
  }
  return err instanceof Error ? err : new Error(String(err));
}
