/**
 * A configuration mistake (an environment variable with a wrong value): printed as one line, never as
 * a stack trace. Its own module so the command line can recognise it without loading the settings.
 */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}
