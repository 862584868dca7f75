/**
 * Python traceback parsing (pure: shared by the workflow's classifier and the activities).
 * Takes the last traceback in a text (the one that ended the program, after any "During handling
 * of the above exception" chain) and its final exception line.
 */
import { HEADER, unwrapLog } from './log-unwrap';

export interface TraceFrame {
  /** The path as printed in the traceback (absolute, from wherever the incident happened). */
  file: string;
  line: number;
  func: string;
}

export interface ParsedTraceback {
  frames: TraceFrame[];
  /** As printed: `KeyError`, or qualified, `requests.exceptions.ConnectionError`. */
  exceptionType: string;
  message: string;
}

/** A frame line; loguru marks the frame where the exception was caught with `> `. */
const FRAME = /^\s*(?:> )?File "([^"]+)", line (\d+), in (.+?)\s*$/;
/** A SyntaxError's own location (`File "…/batching.py", line 4`, no function): the module's code. */
const SYNTAX_LOCATION = /^\s*File "([^"]+)", line (\d+)\s*$/;
/** What a SyntaxError's location is called as a frame, here and by the runner (opsguard_runner.py). */
export const MODULE_CODE = '<module>';
const EXCEPTION_LINE = /^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Failure|[A-Z]\w*))(?::\s?(.*))?$/;

/**
 * The chain's earlier tracebacks, oldest first: the exceptions being handled (or the direct causes)
 * when the last one was raised. Empty for a single traceback.
 */
export function causeTracebacks(text: string): ParsedTraceback[] {
  const lines = unwrapLog(text).split(/\r?\n/);
  const starts = lines.flatMap((l, i) => (l.trimStart().startsWith(HEADER) ? [i] : []));
  return starts
    .slice(1)
    .map((next) => parseTraceback(lines.slice(0, next).join('\n')))
    .filter((t): t is ParsedTraceback => t !== null);
}

/** The last traceback in a log, in whichever form the log carries it (log-unwrap.ts). */
export function parseTraceback(text: string): ParsedTraceback | null {
  const lines = unwrapLog(text).split(/\r?\n/);
  const start = lines.findLastIndex((l) => l.trimStart().startsWith(HEADER));
  if (start < 0) return null;
  const frames: TraceFrame[] = [];
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const frame = FRAME.exec(line);
    if (frame) {
      frames.push({ file: frame[1] ?? '', line: Number(frame[2]), func: frame[3] ?? '' });
      continue;
    }
    const syntax = SYNTAX_LOCATION.exec(line);
    if (syntax) {
      frames.push({ file: syntax[1] ?? '', line: Number(syntax[2]), func: MODULE_CODE });
      continue;
    }
    if (/^\s/.test(line) || line === '') continue; // source line, caret markers, blank
    const ex = EXCEPTION_LINE.exec(line.trim());
    if (ex) {
      // A multi-line message continues until a blank line or the next traceback.
      const rest: string[] = [];
      for (let j = i + 1; j < lines.length && (lines[j] ?? '').trim() !== ''; j++) rest.push(lines[j] ?? '');
      const message = [ex[2] ?? '', ...rest].join('\n').trim();
      return { frames, exceptionType: ex[1] ?? '', message };
    }
    // A type named otherwise (pytest's `Failed`, a dump's `Hang`): up to the first colon.
    const colon = line.trim().indexOf(':');
    return colon < 0
      ? { frames, exceptionType: line.trim(), message: '' }
      : {
          frames,
          exceptionType: line.trim().slice(0, colon),
          message: line
            .trim()
            .slice(colon + 1)
            .trim(),
        };
  }
  return frames.length ? { frames, exceptionType: '', message: '' } : null;
}

/** `requests.exceptions.ConnectionError` -> `ConnectionError`. */
export function shortTypeName(type: string): string {
  return type.slice(type.lastIndexOf('.') + 1);
}

/** Frames in third-party or standard-library code, never the repository's own. */
export function isLibraryPath(file: string): boolean {
  return /site-packages|dist-packages|[\\/]lib[\\/]python\d|^<frozen |^<string>|^<stdin>/.test(file);
}

/** The last n characters of a text, for feedback and logs (history stays small). */
export function tail(text: string, n = 2000): string {
  return text.length <= n ? text : `…${text.slice(-n)}`;
}
