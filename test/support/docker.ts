import { settingsFromEnv } from '../../worker/settings';

/** The image tests run in: the one the set-up built, or OPSGUARD_SANDBOX_IMAGE. */
export function sandboxImage(): string {
  return settingsFromEnv().sandboxImage;
}
