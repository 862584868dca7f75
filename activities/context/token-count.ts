/**
 * Tokens as the model counts them: `gpt-tokenizer` (o200k_base, the encoding of OpenAI's current
 * models; other models' tokenizers differ by a few percent, which the budget's margin absorbs).
 */
import { countTokens as count } from 'gpt-tokenizer';

export function countTokens(text: string): number {
  return text ? count(text) : 0;
}
